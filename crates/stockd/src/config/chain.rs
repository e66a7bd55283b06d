//! The provider chains: which providers serve daily history and quotes, in what order, and
//! whether each has what it needs (a key) to run.

use secrecy::{ExposeSecret, SecretString};

use super::{ConfigError, ProviderChoice, Settings, invalid};

/// A provider stockd can build, by its configuration name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderName {
    Sample,
    AlphaVantage,
    Finnhub,
    Yahoo,
    Polygon,
    /// Simulated live quotes over the sample's symbols (no history).
    Sim,
}

impl ProviderName {
    /// Every provider, in the order names are listed in errors.
    pub const ALL: [Self; 6] = [
        Self::Sample,
        Self::AlphaVantage,
        Self::Finnhub,
        Self::Yahoo,
        Self::Polygon,
        Self::Sim,
    ];

    /// The name used in settings (and by the provider itself in `source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sample => "sample",
            Self::AlphaVantage => "alphavantage",
            Self::Finnhub => "finnhub",
            Self::Yahoo => "yahoo",
            Self::Polygon => "polygon",
            Self::Sim => "sim",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str().eq_ignore_ascii_case(text))
    }

    /// The setting holding its key, for providers that need one.
    fn key_setting(self) -> Option<&'static str> {
        match self {
            Self::AlphaVantage => Some("alphavantage_api_key (APIKEY)"),
            Self::Finnhub => Some("finnhub_api_key"),
            Self::Polygon => Some("polygon_api_key"),
            Self::Sample | Self::Yahoo | Self::Sim => None,
        }
    }
}

impl From<ProviderChoice> for ProviderName {
    fn from(choice: ProviderChoice) -> Self {
        match choice {
            ProviderChoice::Sample => Self::Sample,
            ProviderChoice::AlphaVantage => Self::AlphaVantage,
        }
    }
}

/// The providers asked for each capability, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChains {
    pub daily: Vec<ProviderName>,
    pub quote: Vec<ProviderName>,
}

impl Settings {
    /// The provider chains; unset lists fall back to the single `provider` choice.
    pub(super) fn provider_chains(&self) -> Result<ProviderChains, ConfigError> {
        Ok(ProviderChains {
            daily: self.chain("daily_providers", self.daily_providers.as_deref())?,
            quote: self.chain("quote_providers", self.quote_providers.as_deref())?,
        })
    }

    /// The Finnhub key, if any (an empty value counts as unset).
    pub fn finnhub_key(&self) -> Option<&SecretString> {
        non_empty(self.finnhub_api_key.as_ref())
    }

    /// The Polygon key, if any (an empty value counts as unset).
    pub fn polygon_key(&self) -> Option<&SecretString> {
        non_empty(self.polygon_api_key.as_ref())
    }

    fn chain(
        &self,
        setting: &'static str,
        list: Option<&str>,
    ) -> Result<Vec<ProviderName>, ConfigError> {
        match list {
            Some(list) => self.chain_of(setting, list),
            None => Ok(vec![self.provider_choice().into()]),
        }
    }

    /// Parses a comma-separated provider list named `setting`, checking names and keys.
    pub(super) fn chain_of(
        &self,
        setting: &'static str,
        list: &str,
    ) -> Result<Vec<ProviderName>, ConfigError> {
        let mut chain = Vec::new();
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let name = ProviderName::parse(item).ok_or_else(|| {
                let known: Vec<_> = ProviderName::ALL.iter().map(|n| n.as_str()).collect();
                invalid(
                    setting,
                    format!("unknown provider '{item}'; known: {}", known.join(", ")),
                )
            })?;
            if chain.contains(&name) {
                return Err(invalid(setting, format!("{item} is listed twice")));
            }
            if let Some(key_setting) = name.key_setting().filter(|_| !self.has_key(name)) {
                return Err(invalid(
                    setting,
                    format!("{item} needs an API key: set {key_setting}"),
                ));
            }
            chain.push(name);
        }
        if chain.is_empty() {
            return Err(invalid(
                setting,
                "lists no provider; name at least one (e.g. sample), or unset it to use `provider`",
            ));
        }
        Ok(chain)
    }

    fn has_key(&self, name: ProviderName) -> bool {
        match name {
            ProviderName::AlphaVantage => self.api_key().is_some(),
            ProviderName::Finnhub => self.finnhub_key().is_some(),
            ProviderName::Polygon => self.polygon_key().is_some(),
            ProviderName::Sample | ProviderName::Yahoo | ProviderName::Sim => true,
        }
    }
}

pub(super) fn non_empty(secret: Option<&SecretString>) -> Option<&SecretString> {
    secret.filter(|key| !key.expose_secret().trim().is_empty())
}
