//! Consent: usage statistics are on unless any one opt-out says otherwise.
//!
//! Checked once, before anything is recorded or any exporter is built.

use std::fmt;

/// Why usage statistics are off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptOutReason {
    /// `privacy.usageStatisticsEnabled: false` in settings (also what `/privacy off` and
    /// `qcode privacy off` write).
    Settings,
    /// `QCODE_USAGE_STATS=0` (or false/off/no).
    QcodeUsageStatsEnv,
    /// `DO_NOT_TRACK` is set to something other than 0/false.
    DoNotTrack,
    /// Turned off during this session (`/privacy off`).
    TurnedOffNow,
}

impl OptOutReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Settings => "privacy.usageStatisticsEnabled is false in settings",
            Self::QcodeUsageStatsEnv => "QCODE_USAGE_STATS is set to off",
            Self::DoNotTrack => "DO_NOT_TRACK is set",
            Self::TurnedOffNow => "turned off during this session",
        }
    }
}

impl fmt::Display for OptOutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The resolved consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consent {
    Enabled,
    Disabled(OptOutReason),
}

/// Env variable: `0`, `false`, `off` or `no` turns usage statistics off.
pub const ENV_USAGE_STATS: &str = "QCODE_USAGE_STATS";
/// Env variable: the community-standard opt-out (<https://consoledonottrack.com>).
pub const ENV_DO_NOT_TRACK: &str = "DO_NOT_TRACK";

impl Consent {
    /// Resolves consent from the settings value and the environment. Each opt-out alone is
    /// sufficient; nothing turns statistics back on over an opt-out.
    pub fn resolve(settings_enabled: Option<bool>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        if settings_enabled == Some(false) {
            return Self::Disabled(OptOutReason::Settings);
        }
        if env(ENV_USAGE_STATS).is_some_and(|v| is_off_word(&v)) {
            return Self::Disabled(OptOutReason::QcodeUsageStatsEnv);
        }
        if env(ENV_DO_NOT_TRACK).is_some_and(|v| do_not_track_set(&v)) {
            return Self::Disabled(OptOutReason::DoNotTrack);
        }
        Self::Enabled
    }

    pub fn is_enabled(self) -> bool {
        matches!(self, Self::Enabled)
    }
}

fn is_off_word(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "off" | "no"
    )
}

fn do_not_track_set(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    !value.is_empty() && value != "0" && value != "false"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn enabled_by_default() {
        assert_eq!(Consent::resolve(None, &env_of(&[])), Consent::Enabled);
        assert_eq!(Consent::resolve(Some(true), &env_of(&[])), Consent::Enabled);
    }

    #[test]
    fn each_opt_out_alone_is_sufficient() {
        assert_eq!(
            Consent::resolve(Some(false), &env_of(&[])),
            Consent::Disabled(OptOutReason::Settings)
        );
        for off in ["0", "false", "OFF", " no "] {
            assert_eq!(
                Consent::resolve(None, &env_of(&[("QCODE_USAGE_STATS", off)])),
                Consent::Disabled(OptOutReason::QcodeUsageStatsEnv),
                "{off}"
            );
        }
        for dnt in ["1", "true", "yes"] {
            assert_eq!(
                Consent::resolve(Some(true), &env_of(&[("DO_NOT_TRACK", dnt)])),
                Consent::Disabled(OptOutReason::DoNotTrack),
                "{dnt}"
            );
        }
    }

    #[test]
    fn opt_in_values_do_not_override_an_opt_out() {
        let env = env_of(&[("QCODE_USAGE_STATS", "1"), ("DO_NOT_TRACK", "1")]);
        assert_eq!(
            Consent::resolve(Some(true), &env),
            Consent::Disabled(OptOutReason::DoNotTrack)
        );
    }

    #[test]
    fn neutral_values_keep_it_enabled() {
        for (k, v) in [
            ("DO_NOT_TRACK", "0"),
            ("DO_NOT_TRACK", "false"),
            ("DO_NOT_TRACK", ""),
            ("QCODE_USAGE_STATS", "1"),
            ("QCODE_USAGE_STATS", "on"),
        ] {
            assert_eq!(
                Consent::resolve(None, &env_of(&[(k, v)])),
                Consent::Enabled,
                "{k}={v}"
            );
        }
    }
}
