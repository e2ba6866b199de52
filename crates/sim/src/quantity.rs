//! Resource quantities (`500m`, `2`, `512Mi`, `1G`) as the API server reads
//! and prints them, for quota arithmetic. Values are kept in thousandths of
//! the unit, which covers every quantity a quota deals in exactly.

/// Thousandths of the unit (`500m` → 500, `1` → 1000, `1Ki` → 1_024_000).
pub fn parse(text: &str) -> Option<i128> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    if num.is_empty() || num == "+" || num == "-" {
        return None;
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let negative = int.starts_with('-');
    let int = int.trim_start_matches(['+', '-']);
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // The number in billionths, so that a fraction of a milli-suffix stays exact enough.
    let mut frac9 = frac.chars().take(9).collect::<String>();
    while frac9.len() < 9 {
        frac9.push('0');
    }
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let nano: i128 = whole.checked_mul(1_000_000_000)? + frac9.parse::<i128>().ok()?;
    let (mul, div): (i128, i128) = match suffix {
        "" => (1, 1),
        "m" => (1, 1000),
        "u" => (1, 1_000_000),
        "n" => (1, 1_000_000_000),
        "k" => (1000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        e if e.starts_with(['e', 'E']) => {
            let exp: u32 = e[1..].parse().ok()?;
            (10_i128.checked_pow(exp)?, 1)
        }
        _ => return None,
    };
    // nano * mul / div is the value in billionths; thousandths are a millionth of that.
    let milli = nano.checked_mul(mul)? / div / 1_000_000;
    Some(if negative { -milli } else { milli })
}

/// The canonical text of a value in thousandths: `1500m`, `2`, `512Mi`.
/// `binary` prints memory and storage with binary suffixes where exact.
pub fn format(milli: i128, binary: bool) -> String {
    if milli % 1000 != 0 {
        return format!("{milli}m");
    }
    let n = milli / 1000;
    if binary && n != 0 {
        for (suffix, size) in [
            ("Pi", 1_i128 << 50),
            ("Ti", 1 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ] {
            if n % size == 0 {
                return format!("{}{suffix}", n / size);
            }
        }
    }
    n.to_string()
}

/// Whether a resource name counts bytes (memory, storage) rather than cores or objects.
pub fn is_bytes(resource: &str) -> bool {
    resource.contains("memory") || resource.contains("storage")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_and_print_as_the_server_does() {
        assert_eq!(parse("500m"), Some(500));
        assert_eq!(parse("2"), Some(2000));
        assert_eq!(parse("1.5"), Some(1500));
        assert_eq!(parse("512Mi"), Some(512 * 1024 * 1024 * 1000));
        assert_eq!(parse("1G"), Some(1_000_000_000_000));
        assert_eq!(parse("1e3"), Some(1_000_000));
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("1Qi"), None);
        assert_eq!(format(1500, false), "1500m");
        assert_eq!(format(2000, false), "2");
        assert_eq!(format(512 * 1024 * 1024 * 1000, true), "512Mi");
        assert_eq!(format(3 * (1 << 30) * 1000, true), "3Gi");
        assert_eq!(format(0, true), "0");
    }
}
