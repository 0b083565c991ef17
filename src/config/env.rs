//! `WRISTBAND_*` environment variables: each overrides the setting it names, and a
//! secret may come from the file its `_FILE` variable names.

use std::fmt::Display;
use std::str::FromStr;

use super::{ConfigError, env_name};

/// Reads overrides from the environment into the raw configuration.
pub(super) struct Env<'a>(pub(super) &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    pub(super) fn string(&self, setting: &str, slot: &mut Option<String>) {
        if let Some(value) = (self.0)(&env_name(setting)) {
            *slot = Some(value);
        }
    }

    /// A list setting: comma-separated items, blanks ignored.
    pub(super) fn list(&self, setting: &str, slot: &mut Option<Vec<String>>) {
        if let Some(value) = (self.0)(&env_name(setting)) {
            *slot = Some(value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect());
        }
    }

    pub(super) fn parse<T: FromStr>(&self, setting: &'static str, slot: &mut Option<T>) -> Result<(), ConfigError>
    where
        T::Err: Display,
    {
        if let Some(value) = (self.0)(&env_name(setting)) {
            let parsed = value.trim().parse().map_err(|e| ConfigError::invalid(setting, format!("`{value}`: {e}")))?;
            *slot = Some(parsed);
        }
        Ok(())
    }

    /// A secret may come from `WRISTBAND_<NAME>` or from the file named by `WRISTBAND_<NAME>_FILE`.
    pub(super) fn secret(&self, setting: &'static str, slot: &mut Option<String>) -> Result<(), ConfigError> {
        let name = env_name(setting);
        let direct = (self.0)(&name);
        let file = (self.0)(&format!("{name}_FILE"));
        match (direct, file) {
            (Some(_), Some(_)) => {
                Err(ConfigError::invalid(setting, format!("set either {name} or {name}_FILE, not both")))
            }
            (Some(value), None) => {
                *slot = Some(value);
                Ok(())
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::invalid(setting, format!("cannot read {name}_FILE {path}: {e}")))?;
                *slot = Some(text.trim_end_matches(['\r', '\n']).to_owned());
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }
}
