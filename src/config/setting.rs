//! What one row of the settings table ([`super`]) is, and the macro that
//! turns the table into the typed [`super::Config`], the command-line
//! [`super::Flags`] and the [`super::SETTINGS`] list the loader walks.

use super::{Config, Flags};

/// How `--print-config` shows a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Plain,
    /// A secret: shown as `[hidden]`, as Kafka logs a PASSWORD config.
    Password,
    /// A connection URL: shown without its password.
    UrlPassword,
}

/// One broker setting.
pub struct Setting {
    /// The name in `server.properties`: Kafka's, or `kafkaesque.*` for what
    /// Kafka has no setting for.
    pub name: &'static str,
    /// The field of [`Config`]; the flag is `--` and this with dashes.
    pub field: &'static str,
    pub shown: Shown,
    pub(super) set: fn(&mut Config, &str) -> Result<(), String>,
    pub(super) get: fn(&Config) -> Option<String>,
    pub(super) from_flags: fn(&Flags) -> Option<String>,
}

impl Setting {
    pub fn flag(&self) -> String {
        format!("--{}", self.field.replace('_', "-"))
    }

    /// The value as `--print-config` shows it (secrets masked); `None` if
    /// it is unset.
    pub fn shown_value(&self, config: &Config) -> Option<String> {
        let value = (self.get)(config)?;
        Some(match self.shown {
            Shown::Plain => value,
            Shown::Password => "[hidden]".to_string(),
            Shown::UrlPassword => mask_url_password(&value),
        })
    }
}

/// A connection string without its password: the `user:password@` of a
/// URL, and `password=` in its query or in key=value form.
pub fn mask_url_password(url: &str) -> String {
    const HIDDEN: &str = "[hidden]";
    let mut shown = url.to_string();
    if let Some(scheme_end) = shown.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = shown[authority_start..]
            .find(['/', '?'])
            .map_or(shown.len(), |i| authority_start + i);
        if let Some(at) = shown[authority_start..authority_end].rfind('@') {
            let userinfo = &shown[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                shown.replace_range(authority_start + colon + 1..authority_start + at, HIDDEN);
            }
        }
    }
    // password=... in a query string or a key=value connection string.
    let mut out = String::new();
    let mut rest = shown.as_str();
    while let Some(i) = rest.find("password=") {
        let preceded_ok = i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' ');
        out.push_str(&rest[..i + "password=".len()]);
        rest = &rest[i + "password=".len()..];
        if preceded_ok {
            let end = if rest.starts_with('\'') {
                rest[1..].find('\'').map_or(rest.len(), |j| j + 2)
            } else {
                rest.find(['&', ' ']).unwrap_or(rest.len())
            };
            out.push_str(HIDDEN);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// A type a setting can have: parsed from the text of a flag, a variable
/// or a file, and shown back as that text.
pub trait SettingValue: Sized {
    fn parse(text: &str) -> Result<Self, String>;
    /// `None` for an unset optional value.
    fn show(&self) -> Option<String>;
}

macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| {
                    format!("not a whole number from {} to {}", <$t>::MIN, <$t>::MAX)
                })
            }
            fn show(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
whole_numbers!(i32, i64, u64, usize);

impl SettingValue for bool {
    fn parse(text: &str) -> Result<Self, String> {
        // Kafka's BOOLEAN: true or false, in any case.
        match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err("expected true or false".to_string()),
        }
    }
    fn show(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl SettingValue for String {
    fn parse(text: &str) -> Result<Self, String> {
        // Kafka trims STRING and LIST values.
        Ok(text.trim().to_string())
    }
    fn show(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl SettingValue for log::LevelFilter {
    fn parse(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| "expected error, warn, info, debug, trace or off".to_string())
    }
    fn show(&self) -> Option<String> {
        Some(self.as_str().to_lowercase())
    }
}

impl<T: SettingValue> SettingValue for Option<T> {
    fn parse(text: &str) -> Result<Self, String> {
        T::parse(text).map(Some)
    }
    fn show(&self) -> Option<String> {
        self.as_ref().and_then(T::show)
    }
}

/// Declares the settings table. Each row of `options` is a doc comment
/// (the `--help` text), then `field: Type = default => "kafka.name", Shown;`
/// Each row of `switches` is a doc comment, then `field => "kafka.name";`:
/// a bool that is false unless set, given on the command line as a bare
/// `--flag`. `cli { ... }` holds the flag fields that are not settings.
macro_rules! settings {
    (
        options {
            $( $(#[doc = $odoc:literal])+
               $ofield:ident : $oty:ty = $odefault:expr => $oname:literal, $oshown:ident; )*
        }
        switches {
            $( $(#[doc = $sdoc:literal])+ $sfield:ident => $sname:literal; )*
        }
        cli { $($cli:tt)* }
    ) => {
        /// The broker's settings, resolved from flags, `KAFKA_*` environment
        /// variables, a `server.properties` file and the defaults
        /// ([`load`]).
        #[derive(Debug, Clone)]
        pub struct Config {
            $( pub $ofield: $oty, )*
            $( pub $sfield: bool, )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $( $ofield: $odefault, )*
                    $( $sfield: false, )*
                }
            }
        }

        /// Kafkaesque: a Kafka-protocol broker that keeps every byte in
        /// PostgreSQL. Every setting can also be given in a server.properties
        /// file (--config) under the Kafka name its help names, or as a
        /// KAFKA_* environment variable as the apache/kafka image reads them.
        /// Precedence: flag, environment, file, default.
        #[derive(argh::FromArgs, Debug)]
        pub struct Flags {
            $( $(#[doc = $odoc])+ #[argh(option)] pub $ofield: Option<String>, )*
            $( $(#[doc = $sdoc])+ #[argh(switch)] pub $sfield: bool, )*
            $($cli)*
        }

        /// Every setting, in table order.
        pub const SETTINGS: &[Setting] = &[
            $( Setting {
                name: $oname,
                field: stringify!($ofield),
                shown: Shown::$oshown,
                set: |config, text| {
                    config.$ofield = SettingValue::parse(text)?;
                    Ok(())
                },
                get: |config| SettingValue::show(&config.$ofield),
                from_flags: |flags| flags.$ofield.clone(),
            }, )*
            $( Setting {
                name: $sname,
                field: stringify!($sfield),
                shown: Shown::Plain,
                set: |config, text| {
                    config.$sfield = SettingValue::parse(text)?;
                    Ok(())
                },
                get: |config| SettingValue::show(&config.$sfield),
                from_flags: |flags| flags.$sfield.then(|| "true".to_string()),
            }, )*
        ];
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_in_every_form_of_connection_string() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/kq",
                "postgres://app:[hidden]@db:5432/kq",
            ),
            ("postgres://app@db/kq", "postgres://app@db/kq"),
            (
                "postgres://app:p@ss@db/kq?x=1",
                "postgres://app:[hidden]@db/kq?x=1",
            ),
            (
                "postgres://db/kq?user=a&password=s3cret&sslmode=require",
                "postgres://db/kq?user=a&password=[hidden]&sslmode=require",
            ),
            (
                "host=db user=a password=s3cret dbname=kq",
                "host=db user=a password=[hidden] dbname=kq",
            ),
            (
                "host=db password='s3 cret' dbname=kq",
                "host=db password=[hidden] dbname=kq",
            ),
            ("password=s3cret", "password=[hidden]"),
        ];
        for (url, shown) in cases {
            assert_eq!(mask_url_password(url), shown, "{url}");
        }
    }

    #[test]
    fn values_parse_as_kafka_parses_them() {
        assert_eq!(<i32 as SettingValue>::parse(" 3 "), Ok(3));
        assert_eq!(
            <i32 as SettingValue>::parse("3.5"),
            Err("not a whole number from -2147483648 to 2147483647".to_string())
        );
        assert_eq!(<bool as SettingValue>::parse("TRUE"), Ok(true));
        assert!(<bool as SettingValue>::parse("yes").is_err());
        assert_eq!(
            <String as SettingValue>::parse(" a b "),
            Ok("a b".to_string())
        );
        assert_eq!(<Option<i64> as SettingValue>::parse("-1"), Ok(Some(-1)));
        assert_eq!(
            <log::LevelFilter as SettingValue>::parse("WARN"),
            Ok(log::LevelFilter::Warn)
        );
        assert!(<log::LevelFilter as SettingValue>::parse("FATAL").is_err());
    }
}
