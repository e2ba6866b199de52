//! A drawn screen as an SVG image, for the screenshots in the README: each
//! run of cells with one style becomes a background rectangle and a text
//! span, in the xterm colours of the 16-colour palette.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const FG: &str = "#d0d0d0";
const BG: &str = "#1c1c1c";

fn hex(c: Color, fallback: &str) -> String {
    let named = match c {
        Color::Reset => return fallback.to_string(),
        Color::Black => "#000000",
        Color::Red => "#cd0000",
        Color::Green => "#00cd00",
        Color::Yellow => "#cdcd00",
        Color::Blue => "#0044ee",
        Color::Magenta => "#cd00cd",
        Color::Cyan => "#00cdcd",
        Color::Gray => "#bfbfbf",
        Color::DarkGray => "#7f7f7f",
        Color::LightRed => "#ff5555",
        Color::LightGreen => "#55ff55",
        Color::LightYellow => "#ffff55",
        Color::LightBlue => "#5c5cff",
        Color::LightMagenta => "#ff55ff",
        Color::LightCyan => "#55ffff",
        Color::White => "#ffffff",
        Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => return format!("#{0:02x}{0:02x}{0:02x}", i),
    };
    named.to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn to_svg(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (f32::from(area.width) * CELL_W, f32::from(area.height) * CELL_H);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{BG}\"/>\n\
         <g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"14px\" xml:space=\"preserve\">\n"
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let style = buf[(x, y)].style();
            let start = x;
            let mut text = String::new();
            while x < area.width && buf[(x, y)].style() == style {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            let reversed = style.add_modifier.contains(Modifier::REVERSED);
            let (mut fg, mut bg) = (
                style.fg.map_or(FG.to_string(), |c| hex(c, FG)),
                style.bg.map_or(BG.to_string(), |c| hex(c, BG)),
            );
            if reversed {
                std::mem::swap(&mut fg, &mut bg);
            }
            let (px, py) = (f32::from(start) * CELL_W, f32::from(y) * CELL_H);
            let width = f32::from(x - start) * CELL_W;
            if bg != BG {
                let _ = writeln!(
                    out,
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{width:.1}\" height=\"{CELL_H}\" fill=\"{bg}\"/>"
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = String::new();
            if style.add_modifier.contains(Modifier::BOLD) {
                attrs.push_str(" font-weight=\"bold\"");
            }
            if style.add_modifier.contains(Modifier::DIM) {
                attrs.push_str(" opacity=\"0.6\"");
            }
            if style.add_modifier.contains(Modifier::UNDERLINED) {
                attrs.push_str(" text-decoration=\"underline\"");
            }
            let _ = writeln!(
                out,
                "<text x=\"{px:.1}\" y=\"{:.1}\" fill=\"{fg}\"{attrs} textLength=\"{width:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>",
                py + CELL_H * 0.78,
                escape(&text)
            );
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_become_text_and_background() {
        let mut b = Buffer::empty(Rect::new(0, 0, 10, 2));
        b.set_string(0, 0, "ok <x>", Style::default().fg(Color::Green).bg(Color::Blue));
        let svg = to_svg(&b);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("fill=\"#00cd00\""));
        assert!(svg.contains("fill=\"#0044ee\""));
        assert!(svg.contains("ok &lt;x&gt;"));
    }
}
