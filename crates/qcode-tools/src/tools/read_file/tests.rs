use super::*;

/// Endless bytes without a newline; counts what was handed out.
struct Endless {
    handed: u64,
    buf: Vec<u8>,
}

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        out.fill(b'a');
        self.handed += out.len() as u64;
        Ok(out.len())
    }
}

impl BufRead for Endless {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.handed += self.buf.len() as u64;
        Ok(&self.buf)
    }
    fn consume(&mut self, _: usize) {}
}

#[test]
fn an_endless_line_is_kept_bounded_and_stopped_by_the_deadline() {
    let mut r = Endless {
        handed: 0,
        buf: vec![b'a'; 64 * 1024],
    };
    let mut kept = Vec::new();
    let started = Instant::now();
    let got = next_line(
        &mut r,
        &mut kept,
        true,
        Instant::now() + Duration::from_millis(200),
    )
    .unwrap();
    assert_eq!(got, LineRead::OutOfTime);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(kept.len(), KEPT_LINE_BYTES);
    assert!(kept.capacity() < 2 * KEPT_LINE_BYTES + 64 * 1024);
    assert!(r.handed > 10 * KEPT_LINE_BYTES as u64, "{}", r.handed);
}

#[test]
fn lines_are_measured_in_full_and_kept_in_part() {
    let text = format!("{}\nshort\n\nlast", "x".repeat(10_000));
    let mut r = BufReader::with_capacity(1000, text.as_bytes());
    let far = Instant::now() + Duration::from_secs(60);
    let mut kept = Vec::new();
    assert_eq!(
        next_line(&mut r, &mut kept, true, far).unwrap(),
        LineRead::Line(10_000)
    );
    assert_eq!(kept.len(), KEPT_LINE_BYTES);
    kept.clear();
    assert_eq!(
        next_line(&mut r, &mut kept, true, far).unwrap(),
        LineRead::Line(5)
    );
    assert_eq!(kept, b"short");
    kept.clear();
    assert_eq!(
        next_line(&mut r, &mut kept, false, far).unwrap(),
        LineRead::Line(0)
    );
    assert_eq!(
        next_line(&mut r, &mut kept, false, far).unwrap(),
        LineRead::Line(4)
    );
    assert!(kept.is_empty());
    assert_eq!(
        next_line(&mut r, &mut kept, true, far).unwrap(),
        LineRead::End
    );
}
