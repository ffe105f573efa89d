//! Java's `.properties` format, as `java.util.Properties.load` reads it and
//! so as Kafka reads `server.properties`.
//!
//! - A line whose first non-blank character is `#` or `!` is a comment;
//!   blank lines are skipped.
//! - The key ends at the first unescaped `=`, `:` or blank; blanks around
//!   the separator are skipped, so `key=value`, `key: value` and
//!   `key value` are the same.
//! - A line ending in an odd number of backslashes continues on the next
//!   one, whose leading blanks are dropped (a comment line never
//!   continues).
//! - Escapes in keys and values: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and a
//!   backslash before any other character stands for that character.
//!
//! Java reads the bytes as ISO-8859-1; the loader reads UTF-8 and falls
//! back to ISO-8859-1 for a file that is not UTF-8 (the two agree on the
//! ASCII that Kafka's settings are written in).

/// One `key=value` of a file, with the line it starts on (1-based), so that
/// an error can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// Parses a whole file. A later line setting the same key wins, as in
/// Java, so every property is returned in file order. The only error is a
/// malformed `\uXXXX`, reported as "line N: why".
pub fn parse(text: &str) -> Result<Vec<Property>, String> {
    let mut properties = Vec::new();
    let mut lines = natural_lines(text).peekable();
    while let Some((number, line)) = lines.next() {
        let line = line.trim_start_matches(is_blank);
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        // Join continuation lines into one logical line.
        let mut logical = String::from(line);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start_matches(is_blank)),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let unescape = |s: &str| unescape(s).map_err(|why| format!("line {number}: {why}"));
        properties.push(Property {
            key: unescape(key)?,
            value: unescape(value)?,
            line: number,
        });
    }
    Ok(properties)
}

/// Java's blanks between tokens: space, tab and form feed.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Lines ended by `\n`, `\r\n` or a lone `\r`, numbered from 1.
fn natural_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    let mut number = 0;
    std::iter::from_fn(move || {
        let text = rest?;
        number += 1;
        match text.find(['\n', '\r']) {
            Some(end) => {
                let after = if text[end..].starts_with("\r\n") {
                    end + 2
                } else {
                    end + 1
                };
                rest = Some(&text[after..]);
                Some((number, &text[..end]))
            }
            None => {
                rest = None;
                (!text.is_empty()).then_some((number, text))
            }
        }
    })
}

fn ends_with_odd_backslashes(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits a logical line (already without leading blanks) into its raw,
/// still escaped, key and value.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut has_separator = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' {
            key_end = i;
            has_separator = true;
            break;
        } else if is_blank(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = &line[key_end..];
    if has_separator {
        rest = &rest[1..];
    }
    rest = rest.trim_start_matches(is_blank);
    if !has_separator && (rest.starts_with('=') || rest.starts_with(':')) {
        rest = rest[1..].trim_start_matches(is_blank);
    }
    (key, rest)
}

/// Resolves the escapes of a key or value. `\uXXXX` escapes are UTF-16
/// code units, so a surrogate pair written as two escapes is one character.
fn unescape(raw: &str) -> Result<String, String> {
    let mut units: Vec<u16> = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let Some(escaped) = chars.next() else {
            break;
        };
        let unit = match escaped {
            't' => '\t' as u16,
            'n' => '\n' as u16,
            'r' => '\r' as u16,
            'f' => 0x0c,
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                if hex.len() != 4 {
                    return Err(format!("malformed \\uxxxx escape: \\u{hex}"));
                }
                u16::from_str_radix(&hex, 16)
                    .map_err(|_| format!("malformed \\uxxxx escape: \\u{hex}"))?
            }
            other => {
                let mut buf = [0u16; 2];
                units.extend_from_slice(other.encode_utf16(&mut buf));
                continue;
            }
        };
        units.push(unit);
    }
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn separators_and_blanks() {
        assert_eq!(
            pairs("a=1\nb: 2\nc 3\n  d =  4  \ne\t:\t5\nf\ng=\nh==x\ni:=y\n"),
            vec![
                pair("a", "1"),
                pair("b", "2"),
                pair("c", "3"),
                pair("d", "4  "),
                pair("e", "5"),
                pair("f", ""),
                pair("g", ""),
                pair("h", "=x"),
                pair("i", "=y"),
            ]
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(
            pairs(
                "# comment\n! also a comment\n\n   \n  # indented comment\na=1 # not a comment\n"
            ),
            vec![pair("a", "1 # not a comment")]
        );
    }

    #[test]
    fn continuation_lines_join_without_their_leading_blanks() {
        assert_eq!(
            pairs("listeners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\nnext=1\n"),
            vec![
                pair("listeners", "PLAINTEXT://:9092,CONTROLLER://:9093"),
                pair("next", "1")
            ]
        );
        // An even number of backslashes is an escaped backslash, not a
        // continuation.
        assert_eq!(
            pairs("path=c:\\\\dir\\\\\nx=1"),
            vec![pair("path", "c:\\dir\\"), pair("x", "1")]
        );
        // A comment line never continues.
        assert_eq!(pairs("# comment \\\na=1"), vec![pair("a", "1")]);
        // Continued into the end of the file.
        assert_eq!(pairs("a=1\\"), vec![pair("a", "1")]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            pairs("my\\ key\\=x = tab\\there\\nnew \\u0041\\u00e9 \\q\nsmile=\\ud83d\\ude00\n"),
            vec![pair("my key=x", "tab\there\nnew Aé q"), pair("smile", "😀")]
        );
        assert_eq!(
            parse("a=1\nb=\\u12g4\n").unwrap_err(),
            "line 2: malformed \\uxxxx escape: \\u12g4"
        );
        assert_eq!(
            parse("b=\\u12").unwrap_err(),
            "line 1: malformed \\uxxxx escape: \\u12"
        );
    }

    #[test]
    fn line_numbers_count_every_line_ending() {
        let found = parse("# one\r\na=1\r\n\rb=2\\\n  3\nc=4").unwrap();
        let lines: Vec<(&str, usize)> = found.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert_eq!(lines, vec![("a", 2), ("b", 4), ("c", 6)]);
        assert_eq!(found[1].value, "23");
    }
}
