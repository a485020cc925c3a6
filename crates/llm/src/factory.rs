//! Choosing a provider from the configuration. Kept apart from the trait (`provider.rs`), which
//! the providers import: the factory imports the providers, so beside the trait it would make
//! the trait's module and the providers' modules import each other.

use std::sync::Arc;

use crate::config::LlmConfig;
use crate::error::Result;
use crate::offline::OfflineProvider;
use crate::openai::OpenAiCompatible;
use crate::provider::ChatProvider;

/// The provider for a configuration: [`OpenAiCompatible`] when one is given, else
/// [`OfflineProvider`] (so the server runs with one command and no network).
///
/// Fails only when the configuration is given but cannot work (for example a base URL that is
/// not `http(s)://`): silently falling back to offline would hide the mistake.
pub fn provider_from_config(config: Option<LlmConfig>) -> Result<Arc<dyn ChatProvider>> {
    match config {
        Some(config) => Ok(Arc::new(OpenAiCompatible::new(config)?)),
        None => Ok(Arc::new(OfflineProvider::new())),
    }
}
