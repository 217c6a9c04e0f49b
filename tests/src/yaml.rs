//! A reader for the YAML subset that tpm2-tools prints: block mappings,
//! block sequences (`- item`), and scalars. Scalars stay text (quotes
//! removed), so `0x...` values are not reinterpreted; flow sequences such
//! as `[ 0, 1, 2 ]` stay text too and [`Yaml::flow_list`] splits them.

/// A YAML node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    /// A scalar, as text.
    Scalar(String),
    /// A mapping, in document order.
    Map(Vec<(String, Yaml)>),
    /// A sequence.
    List(Vec<Yaml>),
}

impl Yaml {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Yaml> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as an unsigned integer (decimal or `0x` hex).
    pub fn as_u64(&self) -> Option<u64> {
        let s = self.as_str()?.trim();
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    }

    /// The keys of a mapping.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Yaml::Map(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The items of a sequence.
    pub fn items(&self) -> &[Yaml] {
        match self {
            Yaml::List(l) => l,
            _ => &[],
        }
    }

    /// The elements of a flow sequence scalar `[ a, b, c ]`.
    pub fn flow_list(&self) -> Option<Vec<String>> {
        let s = self.as_str()?.trim();
        let inner = s.strip_prefix('[')?.strip_suffix(']')?.trim();
        if inner.is_empty() {
            return Some(Vec::new());
        }
        Some(inner.split(',').map(|x| x.trim().to_string()).collect())
    }
}

/// Parse a document. Never fails: lines it does not understand are
/// skipped, so a test that looks for a key fails with a clear message.
pub fn parse(text: &str) -> Yaml {
    let mut lines: Vec<(usize, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter(|l| l.trim() != "---")
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            (indent, l.trim().to_string())
        })
        .collect();
    let mut i = 0;
    let indent = lines.first().map(|l| l.0).unwrap_or(0);
    parse_block(&mut lines, &mut i, indent)
}

fn is_list_item(s: &str) -> bool {
    s == "-" || s.starts_with("- ")
}

/// Split `key: value` / `key:`; `None` if the line is not a mapping entry.
fn split_entry(s: &str) -> Option<(String, String)> {
    if let Some(k) = s.strip_suffix(':') {
        return Some((unquote(k), String::new()));
    }
    let pos = s.find(": ")?;
    let (k, v) = s.split_at(pos);
    Some((unquote(k), unquote(&v[2..])))
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

fn parse_block(lines: &mut Vec<(usize, String)>, i: &mut usize, indent: usize) -> Yaml {
    let Some((_, first)) = lines.get(*i) else {
        return Yaml::Scalar(String::new());
    };
    if is_list_item(first) {
        let mut items = Vec::new();
        while let Some((ind, s)) = lines.get(*i).cloned() {
            if ind != indent || !is_list_item(&s) {
                break;
            }
            let rest = s.strip_prefix('-').unwrap_or("").trim_start().to_string();
            if rest.is_empty() {
                *i += 1;
                match lines.get(*i) {
                    Some((ind2, _)) if *ind2 > indent => {
                        let ind2 = *ind2;
                        items.push(parse_block(lines, i, ind2));
                    }
                    _ => items.push(Yaml::Scalar(String::new())),
                }
            } else if split_entry(&rest).is_some() && !rest.starts_with('[') {
                // "- key: value" starts a mapping indented past the dash.
                let ind2 = indent + (s.len() - rest.len());
                lines[*i] = (ind2, rest);
                items.push(parse_block(lines, i, ind2));
            } else {
                items.push(Yaml::Scalar(unquote(&rest)));
                *i += 1;
            }
        }
        return Yaml::List(items);
    }
    let mut map = Vec::new();
    while let Some((ind, s)) = lines.get(*i).cloned() {
        if ind < indent {
            break;
        }
        if ind > indent {
            // Not expected here: skip it.
            *i += 1;
            continue;
        }
        let Some((k, v)) = split_entry(&s) else {
            if is_list_item(&s) {
                break;
            }
            *i += 1;
            continue;
        };
        *i += 1;
        if v.is_empty() {
            match lines.get(*i) {
                Some((ind2, _)) if *ind2 > indent => {
                    let ind2 = *ind2;
                    map.push((k, parse_block(lines, i, ind2)));
                }
                Some((ind2, s2)) if *ind2 == indent && is_list_item(s2) => {
                    map.push((k, parse_block(lines, i, indent)));
                }
                _ => map.push((k, Yaml::Scalar(String::new()))),
            }
        } else {
            map.push((k, Yaml::Scalar(v)));
        }
    }
    Yaml::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcrread_output() {
        let y = parse("  sha1:\n    16: 0x1E3F\n  sha256:\n    16: 0xBDC9\n    17: 0x00\n");
        assert_eq!(
            y.path(&["sha1", "16"]).and_then(Yaml::as_str),
            Some("0x1E3F")
        );
        assert_eq!(y.path(&["sha256", "17"]).and_then(Yaml::as_u64), Some(0));
    }

    #[test]
    fn getcap_output() {
        let y = parse(
            "TPM2_PT_VENDOR_STRING_1:\n  raw: 0x53572020\n  value: \"SW\"\nTPM2_PT_PCR_COUNT:\n  raw: 0x18\n",
        );
        assert_eq!(
            y.path(&["TPM2_PT_VENDOR_STRING_1", "value"])
                .and_then(Yaml::as_str),
            Some("SW")
        );
        assert_eq!(
            y.path(&["TPM2_PT_PCR_COUNT", "raw"]).and_then(Yaml::as_u64),
            Some(24)
        );
    }

    #[test]
    fn lists() {
        let y = parse("selected-pcrs:\n  - sha1: [ 0, 1, 2 ]\n  - sha256: [ ]\n");
        let items = y.get("selected-pcrs").map(Yaml::items).unwrap_or(&[]);
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].get("sha1").and_then(Yaml::flow_list),
            Some(vec!["0".into(), "1".into(), "2".into()])
        );
        assert_eq!(
            items[1].get("sha256").and_then(Yaml::flow_list),
            Some(vec![])
        );
        let h = parse("- 0x0\n- 0x1\n");
        assert_eq!(h.items().len(), 2);
        assert_eq!(h.items()[1].as_u64(), Some(1));
    }

    #[test]
    fn readclock_output() {
        let y = parse("time: 1260\nclock_info:\n  clock: 1260\n  reset_count: 1\n  safe: yes\n");
        assert_eq!(
            y.path(&["clock_info", "clock"]).and_then(Yaml::as_u64),
            Some(1260)
        );
        assert_eq!(y.get("time").and_then(Yaml::as_u64), Some(1260));
    }
}
