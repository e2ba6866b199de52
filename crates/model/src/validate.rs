//! Validation rules for everything a user types: names, hosts, ports, env
//! names, image references and resource quantities.
//!
//! Every rule returns a [`ValidationError`] that names the field, repeats the
//! value, says what is wrong in words and, where one exists, proposes a value
//! that would pass.
//!
//! Longer than most files on purpose: every rule of a value a user types
//! (names, hosts, ports, images, quantities, labels) is here, once, so that
//! the CLI, the forms and the store refuse the same things in the same words.

use std::fmt;

/// One field that did not pass validation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidationError {
    /// What the user calls the field, e.g. `app name` or `route host`.
    pub field: String,
    /// The value as it was given.
    pub value: String,
    /// What is wrong, in words.
    pub problem: String,
    /// A value that would pass, when one can be derived.
    pub suggestion: Option<String>,
}

impl ValidationError {
    pub fn new(field: &str, value: &str, problem: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            value: value.to_string(),
            problem: problem.into(),
            suggestion: None,
        }
    }

    fn suggest(mut self, s: Option<String>) -> Self {
        self.suggestion = s.filter(|s| !s.is_empty());
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", self.field, self.value, self.problem)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (try {s:?})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Several field errors at once: forms show each next to its field.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    pub fn push(&mut self, r: Result<(), ValidationError>) {
        if let Err(e) = r {
            self.0.push(e);
        }
    }
    pub fn extend(&mut self, r: Result<(), ValidationErrors>) {
        if let Err(e) = r {
            self.0.extend(e.0);
        }
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The errors for one field, for a form to show beside it.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a ValidationError> {
        self.0.iter().filter(move |e| e.field == field)
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        Self(vec![e])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// `Ok` when `ok` holds, else the error for `field`.
pub(crate) fn require(ok: bool, field: &str, value: &str, problem: &str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, value, problem))
    }
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Turns any text into the nearest DNS-1123 label: lower case, runs of other
/// characters become one `-`, trimmed to 63 characters.
pub fn to_dns_label(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if is_lower_alnum(c) {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(63);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 63 {
        return Some(format!("is {} characters long; at most 63 are allowed", s.len()));
    }
    if let Some(c) = s.chars().find(|c| !is_lower_alnum(*c) && *c != '-') {
        let what = if c.is_ascii_uppercase() {
            "upper-case letters are not allowed".to_string()
        } else {
            format!("{c:?} is not allowed; use lower-case letters, digits and '-'")
        };
        return Some(what);
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("must start and end with a letter or digit".into());
    }
    None
}

/// A DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
/// Namespaces, app names, cluster names, Service names.
pub fn dns_label(field: &str, value: &str) -> Result<(), ValidationError> {
    match label_problem(value) {
        None => Ok(()),
        Some(p) => Err(ValidationError::new(
            field,
            value,
            format!("must be a DNS-1123 label (lower-case letters, digits and '-', at most 63): {p}"),
        )
        .suggest(Some(to_dns_label(value)).filter(|s| s != value))),
    }
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
/// ConfigMap, Secret, Ingress and most object names.
pub fn dns_subdomain(field: &str, value: &str) -> Result<(), ValidationError> {
    let err = |p: String| {
        let suggestion = value
            .split('.')
            .map(to_dns_label)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        Err(ValidationError::new(
            field,
            value,
            format!("must be a DNS-1123 subdomain (lower-case labels separated by '.', at most 253): {p}"),
        )
        .suggest(Some(suggestion).filter(|s| s != value)))
    };
    if value.is_empty() {
        return err("must not be empty".into());
    }
    if value.len() > 253 {
        return err(format!("is {} characters long", value.len()));
    }
    for part in value.split('.') {
        if part.is_empty() {
            return err("has an empty part between dots".into());
        }
        if let Some(p) = label_problem(part) {
            return err(format!("part {part:?} {p}"));
        }
    }
    Ok(())
}

/// A host name for a route: a DNS subdomain, optionally with a leading `*.`
/// wildcard; no scheme, port, path or IP address.
pub fn host(field: &str, value: &str) -> Result<(), ValidationError> {
    let err = |p: &str, s: Option<String>| Err(ValidationError::new(field, value, p.to_string()).suggest(s));
    if let Some(rest) = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://")) {
        return err(
            "is a URL; give the host name only",
            Some(rest.split(['/', ':']).next().unwrap_or("").to_string()),
        );
    }
    if value.contains(':') {
        return err(
            "must not carry a port; routes listen on 80 and 443",
            value.split(':').next().map(str::to_string),
        );
    }
    if value.contains('/') {
        return err(
            "must not carry a path; give the path separately",
            value.split('/').next().map(str::to_string),
        );
    }
    if !value.is_empty()
        && value
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return err("is an IP address; a route needs a DNS name", None);
    }
    let name = value.strip_prefix("*.").unwrap_or(value);
    if name.contains('*') {
        return err("may use '*' only as the whole first label, as in *.example.com", None);
    }
    dns_subdomain(field, name).map_err(|mut e| {
        e.value = value.to_string();
        e.problem = e.problem.replace("must be a DNS-1123 subdomain", "must be a DNS name");
        e
    })?;
    if !name.contains('.') {
        return err(
            "needs at least one dot (a bare name cannot be routed from outside)",
            None,
        );
    }
    Ok(())
}

/// An HTTP path for a route: starts with `/`, no spaces, no query.
pub fn http_path(field: &str, value: &str) -> Result<(), ValidationError> {
    if !value.starts_with('/') {
        return Err(ValidationError::new(field, value, "must start with '/'").suggest(Some(format!("/{value}"))));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || matches!(c, '?' | '#' | '{' | '}' | '|' | '\\' | '^' | '`'))
    {
        return Err(ValidationError::new(field, value, format!("must not contain {c:?}")));
    }
    Ok(())
}

/// A TCP/UDP port number, 1 to 65535.
pub fn port(field: &str, value: u32) -> Result<(), ValidationError> {
    if (1..=65535).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            &value.to_string(),
            "must be a port number from 1 to 65535",
        ))
    }
}

/// Parses a port typed as text, naming the field when it is not a number.
pub fn parse_port(field: &str, value: &str) -> Result<u16, ValidationError> {
    let n: u32 = value
        .trim()
        .parse()
        .map_err(|_| ValidationError::new(field, value, "must be a port number from 1 to 65535"))?;
    port(field, n)?;
    u16::try_from(n).map_err(|_| ValidationError::new(field, value, "must be a port number from 1 to 65535"))
}

/// A named port (IANA service name): at most 15 characters, lower-case
/// letters, digits and '-', at least one letter, no '--', no '-' at either end.
pub fn port_name(field: &str, value: &str) -> Result<(), ValidationError> {
    let problem = if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > 15 {
        Some("must be at most 15 characters")
    } else if !value.chars().all(|c| is_lower_alnum(c) || c == '-') {
        Some("may hold only lower-case letters, digits and '-'")
    } else if !value.chars().any(|c| c.is_ascii_lowercase()) {
        Some("must contain at least one letter")
    } else if value.contains("--") {
        Some("must not contain '--'")
    } else if value.starts_with('-') || value.ends_with('-') {
        Some("must start and end with a letter or digit")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => {
            let mut s = to_dns_label(value);
            s.truncate(15);
            Err(
                ValidationError::new(field, value, format!("is not a valid port name: {p}")).suggest(
                    Some(s.trim_end_matches('-').to_string()).filter(|s| s != value && port_name("", s).is_ok()),
                ),
            )
        }
    }
}

/// An environment variable name: `[-._a-zA-Z][-._a-zA-Z0-9]*`, the rule every
/// Kubernetes version kdeck supports accepts.
pub fn env_name(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok_first = |c: char| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_');
    let ok_rest = |c: char| ok_first(c) || c.is_ascii_digit();
    let mut chars = value.chars();
    let valid = match chars.next() {
        None => false,
        Some(c) => ok_first(c) && chars.all(ok_rest),
    };
    if valid {
        return Ok(());
    }
    let suggestion: String = value
        .chars()
        .map(|c| if ok_rest(c) { c.to_ascii_uppercase() } else { '_' })
        .collect();
    let suggestion = if suggestion.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{suggestion}")
    } else {
        suggestion
    };
    let problem = if value.is_empty() {
        "must not be empty".to_string()
    } else if value.contains('=') {
        "must not contain '='; give NAME=VALUE as two parts".to_string()
    } else {
        "must start with a letter, '_', '-' or '.', followed by letters, digits, '_', '-' or '.'".to_string()
    };
    Err(ValidationError::new(field, value, problem).suggest(Some(suggestion).filter(|s| s != value)))
}

/// A container image reference: `[registry[:port]/]path[:tag][@digest]`.
pub fn image(field: &str, value: &str) -> Result<(), ValidationError> {
    let err = |p: String| Err(ValidationError::new(field, value, p));
    if value.is_empty() {
        return err("must not be empty; give an image such as nginx:1.27 or ghcr.io/org/app:v1".into());
    }
    if value.chars().any(char::is_whitespace) {
        return err("must not contain spaces".into());
    }
    if value.contains("://") {
        return err("is a URL; give registry/path:tag without a scheme".into());
    }
    let (rest, digest) = match value.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (value, None),
    };
    if let Some(d) = digest {
        let Some((algo, hex)) = d.split_once(':') else {
            return err(format!("digest {d:?} must look like sha256:<64 hex digits>"));
        };
        let algo_ok = !algo.is_empty()
            && algo
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-_".contains(c));
        let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !algo_ok || !hex_ok || (algo == "sha256" && hex.len() != 64) {
            return err(format!("digest {d:?} must look like sha256:<64 lower-case hex digits>"));
        }
    }
    // The tag is after the last ':' that follows the last '/'.
    let last_slash = rest.rfind('/');
    let (name, tag) = match rest.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return err(format!(
                "tag {t:?} must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
            ));
        }
    }
    if name.is_empty() {
        return err("has no repository name".into());
    }
    if name.len() > 255 {
        return err("repository name is longer than 255 characters".into());
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry when it looks like a host: has '.' or ':' or is localhost.
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase())
        {
            let (host, port) = match first.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (first, None),
            };
            let host_ok = !host.is_empty()
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !host_ok {
                return err(format!("registry {first:?} is not a valid host name"));
            }
            if let Some(p) = port
                && parse_port("registry port", p).is_err()
            {
                return err(format!("registry port {p:?} must be a number from 1 to 65535"));
            }
            parts.remove(0);
        }
    }
    for p in parts {
        if p.is_empty() {
            return err("has an empty path component ('//' or a trailing '/')".into());
        }
        if p.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(
                ValidationError::new(field, value, format!("repository path {p:?} must be lower case"))
                    .suggest(Some(value.to_lowercase())),
            );
        }
        let ok_chars = p.chars().all(|c| is_lower_alnum(c) || matches!(c, '.' | '_' | '-'));
        let ends_ok = p.starts_with(is_lower_alnum) && p.ends_with(is_lower_alnum);
        if !ok_chars || !ends_ok || p.contains("..") || p.contains("___") {
            return err(format!(
                "repository path {p:?} may hold lower-case letters and digits joined by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

/// Which resource a quantity is for: CPU counts cores, memory and storage
/// count bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityKind {
    Cpu,
    Memory,
    Storage,
}

/// Parses a Kubernetes quantity (`500m`, `1.5`, `512Mi`, `2G`, `1e3`) into
/// millicores for CPU and bytes for memory and storage.
pub fn quantity(field: &str, value: &str, kind: QuantityKind) -> Result<u64, ValidationError> {
    let unit_hint = match kind {
        QuantityKind::Cpu => "CPU is given in cores (0.5, 2) or millicores (500m)",
        QuantityKind::Memory | QuantityKind::Storage => {
            "sizes take Ki, Mi, Gi, Ti (powers of 2) or k, M, G, T (powers of 10), as in 512Mi"
        }
    };
    let err = |p: String, s: Option<String>| ValidationError::new(field, value, format!("{p}; {unit_hint}")).suggest(s);
    let v = value.trim();
    if v.is_empty() {
        return Err(err("must not be empty".into(), None));
    }
    if v.starts_with('-') {
        return Err(err("must not be negative".into(), None));
    }
    let v = v.strip_prefix('+').unwrap_or(v);
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (num, suffix) = v.split_at(split);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(err("must start with a number".into(), None));
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    // Scale as a power of 10 (decimal) or a multiplier (binary).
    enum Scale {
        Dec(i32),
        Bin(u64),
    }
    let scale = match suffix {
        "" => Scale::Dec(0),
        "n" => Scale::Dec(-9),
        "u" => Scale::Dec(-6),
        "m" => Scale::Dec(-3),
        "k" => Scale::Dec(3),
        "M" => Scale::Dec(6),
        "G" => Scale::Dec(9),
        "T" => Scale::Dec(12),
        "P" => Scale::Dec(15),
        "E" => Scale::Dec(18),
        "Ki" => Scale::Bin(1 << 10),
        "Mi" => Scale::Bin(1 << 20),
        "Gi" => Scale::Bin(1 << 30),
        "Ti" => Scale::Bin(1 << 40),
        "Pi" => Scale::Bin(1 << 50),
        "Ei" => Scale::Bin(1 << 60),
        s if s.starts_with(['e', 'E'])
            && s[1..]
                .trim_start_matches(['+', '-'])
                .chars()
                .all(|c| c.is_ascii_digit())
            && s.len() > 1 =>
        {
            match s[1..].parse::<i32>() {
                Ok(e) if e.abs() <= 30 => Scale::Dec(e),
                _ => return Err(err(format!("exponent {s:?} is out of range"), None)),
            }
        }
        s => {
            let lower = s.to_ascii_lowercase();
            let guess = match lower.as_str() {
                "kb" | "kib" | "ki" => Some("Ki"),
                "mb" | "mib" | "mi" => Some("Mi"),
                "gb" | "gib" | "gi" | "g" => Some("Gi"),
                "tb" | "tib" | "ti" | "t" => Some("Ti"),
                "k" => Some("k"),
                _ => None,
            };
            let guess = if kind == QuantityKind::Cpu { None } else { guess };
            return Err(err(
                format!("unit {s:?} is not a Kubernetes unit"),
                guess.map(|g| format!("{num}{g}")),
            ));
        }
    };
    // Exact arithmetic on the digits: value = digits * 10^(exp) [* bin].
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| err("is too large".into(), None))?
    };
    let frac_len = i32::try_from(frac_part.len()).map_err(|_| err("has too many digits".into(), None))?;
    // Result unit: millicores for CPU (10^-3), bytes otherwise.
    let unit_exp = if kind == QuantityKind::Cpu { -3 } else { 0 };
    let (mult, exp) = match scale {
        Scale::Dec(e) => (1u128, e - frac_len - unit_exp),
        Scale::Bin(b) => (u128::from(b), -frac_len - unit_exp),
    };
    let mut n = mantissa
        .checked_mul(mult)
        .ok_or_else(|| err("is too large".into(), None))?;
    if exp >= 0 {
        for _ in 0..exp {
            n = n.checked_mul(10).ok_or_else(|| err("is too large".into(), None))?;
        }
    } else {
        let mut div: u128 = 1;
        for _ in 0..(-exp) {
            div = div
                .checked_mul(10)
                .ok_or_else(|| err("has too many digits".into(), None))?;
        }
        if n % div != 0 {
            let what = if kind == QuantityKind::Cpu {
                "is finer than 1m (one millicore)"
            } else {
                "is not a whole number of bytes"
            };
            return Err(err(what.into(), None));
        }
        n /= div;
    }
    u64::try_from(n).map_err(|_| err("is too large".into(), None))
}

/// A label key: optional DNS-subdomain prefix and '/', then a name of at most
/// 63 characters of alphanumerics, '-', '_' and '.'.
pub fn label_key(field: &str, value: &str) -> Result<(), ValidationError> {
    let (prefix, name) = match value.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, value),
    };
    if let Some(p) = prefix {
        dns_subdomain(field, p).map_err(|mut e| {
            e.value = value.to_string();
            e.problem = format!("prefix {p:?} {}", e.problem);
            e.suggestion = None;
            e
        })?;
    }
    label_value(field, name).and_then(|_| {
        if name.is_empty() {
            Err(ValidationError::new(field, value, "label key name must not be empty"))
        } else {
            Ok(())
        }
    })
}

/// A label value: empty, or at most 63 alphanumerics, '-', '_' and '.',
/// starting and ending with an alphanumeric.
pub fn label_value(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Ok(());
    }
    let ok = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    require(
        ok,
        field,
        value,
        "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    )
}

/// A git URL for builds: https://, ssh://, git:// or scp-like git@host:path.
pub fn git_url(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = ["https://", "http://", "ssh://", "git://", "file://"].iter().any(|p| {
        value
            .strip_prefix(p)
            .is_some_and(|r| r.len() > 1 && !r.contains(char::is_whitespace))
    }) || value
        .split_once('@')
        .and_then(|(_, r)| r.split_once(':'))
        .is_some_and(|(h, p)| !h.is_empty() && !p.is_empty() && !value.contains(char::is_whitespace));
    require(
        ok,
        field,
        value,
        "must be a git URL such as https://github.com/org/repo.git or git@github.com:org/repo.git",
    )
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
