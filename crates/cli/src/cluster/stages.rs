//! The stage registry: stages by name, built from the configuration, and
//! the settings every context of a run shares. `exhibit ingest` and
//! `exhibit worker` build stages the same way, so that a job gives the
//! same records on either.

use std::sync::Arc;

use exhibit_intake::{AcquireStage, AssembleStage, ExploreStage, IdentifyStage};
use exhibit_ocr::{OcrBundleStage, OcrStage};
use exhibit_pipeline::derive::DerivePolicies;
use exhibit_pipeline::{Stage, StageContext};

use crate::config::Config;

/// Every stage name `exhibit worker --stages` takes.
pub const STAGE_NAMES: [&str; 7] = ["acquire", "identify", "assemble", "explore", "transcode", "ocr", "ocr-bundle"];

/// The stage called `name`, configured by `config`.
pub fn stage(name: &str, config: &Config) -> anyhow::Result<Arc<dyn Stage>> {
    let stage: Arc<dyn Stage> = match name {
        "acquire" => Arc::new(AcquireStage { identify: config.identify, ..AcquireStage::default() }),
        "identify" => Arc::new(IdentifyStage { policy: config.identify }),
        "assemble" => Arc::new(AssembleStage),
        "explore" => {
            Arc::new(ExploreStage { limits: config.limits, policy: config.explore.clone(), identify: config.identify })
        }
        "transcode" => Arc::new(crate::commands::transcode_stage(config)?),
        "ocr" => {
            crate::ocr_languages::check_installed(&config.ocr)?;
            Arc::new(OcrStage { policy: config.ocr.clone() })
        }
        "ocr-bundle" => Arc::new(OcrBundleStage { policy: config.ocr.clone() }),
        other => anyhow::bail!("--stages: unknown stage {other:?}; the stages are {}", STAGE_NAMES.join(", ")),
    };
    debug_assert_eq!(stage.name(), name);
    Ok(stage)
}

/// The stages a comma-separated list names, each once, in order.
pub fn stages(list: &str, config: &Config) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
    let mut names: Vec<&str> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        anyhow::bail!("--stages names no stage; the stages are {}", STAGE_NAMES.join(", "));
    }
    names.into_iter().map(|name| stage(name, config)).collect()
}

/// Gives a context the settings of the configuration: digests, and the
/// derivation policies that are part of derive job IDs.
pub fn configure(ctx: &mut StageContext, config: &Config) -> anyhow::Result<()> {
    ctx.hashes = config.hashing;
    ctx.derive_policies = derive_policies(config)?;
    Ok(())
}

/// The derivation policies of the configuration, part of derive job IDs.
pub fn derive_policies(config: &Config) -> anyhow::Result<DerivePolicies> {
    let transcode = crate::commands::transcode_stage(config)?;
    let ocr = OcrStage { policy: config.ocr.clone() };
    Ok(DerivePolicies { transcode: transcode.policy_identity()?, ocr: ocr.policy_version() })
}
