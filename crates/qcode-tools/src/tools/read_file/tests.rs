use super::*;

/// The whole text split at `\n` (a final newline does not start an extra line).
fn split_all(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect()
}

#[test]
fn the_window_is_the_same_as_splitting_the_whole_text() {
    for text in [
        "",
        "\n",
        "\n\n",
        "a",
        "a\n",
        "a\nb",
        "one\n\ntwo\nthree\n",
        "é\nü\n",
    ] {
        let all = split_all(text);
        for offset in 0..6u64 {
            for limit in 1..5u64 {
                let (window, total) = text_window(text, offset, limit);
                assert_eq!(total, all.len() as u64, "{text:?}");
                let got: Vec<&str> = window.iter().map(|l| l.text).collect();
                let want: Vec<&str> = all
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .copied()
                    .collect();
                assert_eq!(got, want, "{text:?} offset {offset} limit {limit}");
                assert!(window.iter().all(|l| l.bytes == l.text.len() as u64));
            }
        }
    }
}

#[test]
fn an_offset_past_the_end_is_reported_with_the_line_count() {
    let (window, total) = text_window("a\nb\n", 2, 10);
    assert!(window.is_empty());
    assert_eq!(total, 2);
    let out = page(&window, 2, Some(10), total);
    assert_eq!(out.status, crate::ToolResultStatus::Error);
    assert!(
        out.output.contains("offset 2 is past the end"),
        "{}",
        out.output
    );
}
