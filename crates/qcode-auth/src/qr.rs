//! A QR code of the verification URL for the terminal, drawn with half-block characters (two
//! modules per character cell). Light modules (and the quiet zone) are drawn as blocks, like
//! `qrencode -t UTF8`, so the code reads correctly on the usual dark terminal background.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// The QR code as lines of text; empty if the URL is too long to encode.
pub fn qr_lines(url: &str) -> Vec<String> {
    let Ok(code) = QrCode::new(url.as_bytes()) else {
        return Vec::new();
    };
    code.render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build()
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::Color;

    /// Rebuilds the module matrix from the half blocks and compares it with the encoder's.
    #[test]
    fn half_blocks_encode_the_modules() {
        let url = "http://127.0.0.1:9/device?user_code=ABCD-EFGH";
        let lines = qr_lines(url);
        let code = QrCode::new(url.as_bytes()).unwrap();
        let width = code.width();
        let colors = code.to_colors();
        let quiet = 4;
        let full = width + 2 * quiet;
        assert_eq!(lines.len(), full.div_ceil(2));
        let mut light = vec![vec![false; full]; lines.len() * 2];
        for (row, line) in lines.iter().enumerate() {
            let chars: Vec<char> = line.chars().collect();
            assert_eq!(chars.len(), full, "line {row}");
            for (col, ch) in chars.iter().enumerate() {
                let (top, bottom) = match ch {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected {other:?}"),
                };
                light[row * 2][col] = top;
                light[row * 2 + 1][col] = bottom;
            }
        }
        for y in 0..full {
            for x in 0..full {
                let in_code =
                    (quiet..quiet + width).contains(&x) && (quiet..quiet + width).contains(&y);
                let expected_light = if in_code {
                    colors[(y - quiet) * width + (x - quiet)] == Color::Light
                } else {
                    true
                };
                assert_eq!(light[y][x], expected_light, "module ({x},{y})");
            }
        }
    }

    #[test]
    fn too_long_gives_nothing() {
        assert!(qr_lines(&"x".repeat(8000)).is_empty());
    }
}
