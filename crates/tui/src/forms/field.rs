//! A form field's state: its text and where the cursor is. Plain data,
//! edited through named actions; drawing reads it (see `draw`).

/// The lines of a field and its cursor (row, and column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldText {
    lines: Vec<String>,
    row: usize,
    col: usize,
}

impl FieldText {
    /// `text` with the cursor at its very end.
    pub fn new(text: &str) -> FieldText {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        if text.ends_with('\n') && lines.len() > 1 {
            lines.pop();
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        FieldText { lines, row, col }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// (row, column in characters).
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    fn line(&self) -> &str {
        self.lines.get(self.row).map_or("", String::as_str)
    }

    fn width(&self, row: usize) -> usize {
        self.lines.get(row).map_or(0, |l| l.chars().count())
    }

    /// The byte offset of character column `col` in the cursor's line.
    fn at(&self, col: usize) -> usize {
        self.line()
            .char_indices()
            .nth(col)
            .map_or(self.line().len(), |(i, _)| i)
    }

    pub fn insert(&mut self, c: char) {
        let at = self.at(self.col);
        if let Some(l) = self.lines.get_mut(self.row) {
            l.insert(at, c);
            self.col += 1;
        }
    }

    /// Splits the line at the cursor.
    pub fn newline(&mut self) {
        let at = self.at(self.col);
        let Some(l) = self.lines.get_mut(self.row) else {
            return;
        };
        let rest = l.split_off(at);
        self.lines.insert(self.row + 1, rest);
        self.row += 1;
        self.col = 0;
    }

    /// Backspace: the character before the cursor, or the line break.
    pub fn delete_back(&mut self) {
        if self.col > 0 {
            let (from, to) = (self.at(self.col - 1), self.at(self.col));
            if let Some(l) = self.lines.get_mut(self.row) {
                l.replace_range(from..to, "");
                self.col -= 1;
            }
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.width(self.row);
            if let Some(l) = self.lines.get_mut(self.row) {
                l.push_str(&line);
            }
        }
    }

    /// Delete: the character under the cursor, or the line break.
    pub fn delete_forward(&mut self) {
        if self.col < self.width(self.row) {
            let (from, to) = (self.at(self.col), self.at(self.col + 1));
            if let Some(l) = self.lines.get_mut(self.row) {
                l.replace_range(from..to, "");
            }
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            if let Some(l) = self.lines.get_mut(self.row) {
                l.push_str(&next);
            }
        }
    }

    /// As in a shell: the line before the cursor goes.
    pub fn clear_before_cursor(&mut self) {
        let at = self.at(self.col);
        if let Some(l) = self.lines.get_mut(self.row) {
            l.replace_range(..at, "");
            self.col = 0;
        }
    }

    /// Left, on to the end of the line above at the start of a line.
    pub fn left(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.col = self.width(self.row);
        }
    }

    /// Right, on to the start of the line below at the end of a line.
    pub fn right(&mut self) {
        if self.col < self.width(self.row) {
            self.col += 1;
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = 0;
        }
    }

    pub fn up(&mut self) {
        if self.row > 0 {
            self.row -= 1;
            self.col = self.col.min(self.width(self.row));
        }
    }

    pub fn down(&mut self) {
        if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = self.col.min(self.width(self.row));
        }
    }

    pub fn line_start(&mut self) {
        self.col = 0;
    }

    pub fn line_end(&mut self) {
        self.col = self.width(self.row);
    }

    /// The first row and column to show in a box `rows` high and `cols`
    /// wide so that the cursor is in it.
    pub fn viewport(&self, rows: usize, cols: usize) -> (usize, usize) {
        let top = (self.row + 1).saturating_sub(rows.max(1));
        let left = (self.col + 1).saturating_sub(cols.max(1));
        (top, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_and_deleting_move_the_cursor() {
        let mut f = FieldText::new("ab");
        assert_eq!(f.cursor(), (0, 2));
        f.left();
        f.insert('é');
        assert_eq!(f.text(), "aéb");
        f.delete_back();
        f.delete_forward();
        assert_eq!(f.text(), "a");
        f.newline();
        f.insert('c');
        assert_eq!((f.text().as_str(), f.cursor()), ("a\nc", (1, 1)));
        f.line_start();
        f.delete_back();
        assert_eq!((f.text().as_str(), f.cursor()), ("ac", (0, 1)));
        f.clear_before_cursor();
        assert_eq!((f.text().as_str(), f.cursor()), ("c", (0, 0)));
    }

    #[test]
    fn moves_wrap_at_line_ends_and_the_view_follows_the_cursor() {
        let mut f = FieldText::new("one\ntwo\nthree\n");
        assert_eq!(f.lines().len(), 3);
        assert_eq!(f.cursor(), (2, 5));
        f.up();
        assert_eq!(f.cursor(), (1, 3));
        f.right();
        assert_eq!(f.cursor(), (2, 0));
        f.left();
        assert_eq!(f.cursor(), (1, 3));
        assert_eq!(f.viewport(2, 80), (0, 0));
        f.down();
        assert_eq!(f.viewport(2, 3), (1, 1));
        assert_eq!(FieldText::new("").lines(), &[String::new()]);
    }
}
