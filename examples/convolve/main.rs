//! The crate's command-line example: a Keras Conv2D layer on `.npy` tensors (tensor mode) or on
//! PNG/JPEG images with presets or any Keras layer (image mode), from `.npy` weights or real
//! Keras model files.

mod args;
mod image_io;
mod image_mode;
mod layers;
mod outputs;
mod presets;
mod tensor_mode;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    if std::env::args_os().len() == 1 {
        let _ = args::Args::command().print_help();
        return ExitCode::from(2);
    }
    let args = args::Args::parse();
    // The library reports through `log`: its info lines (the adapter, the CPU fallback) show by
    // default, RUST_LOG changes that, --quiet silences them.
    let level = if args.quiet {
        log::LevelFilter::Off
    } else {
        log::LevelFilter::Info
    };
    let mut logger = env_logger::Builder::new();
    logger.filter_level(level).format_target(false).format_timestamp(None);
    if !args.quiet {
        logger.parse_env("RUST_LOG");
    }
    logger.init();
    let result = if args.list_layers {
        layers::list(&args)
    } else if args.is_tensor_mode() {
        tensor_mode::run(&args)
    } else {
        image_mode::run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
