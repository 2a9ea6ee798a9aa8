//! The crate's command-line example: a Keras Conv2D layer on `.npy` tensors (tensor mode) or on
//! PNG/JPEG images with presets or any Keras layer (image mode).

mod args;
mod image_io;
mod image_mode;
mod presets;
mod tensor_mode;

use std::process::ExitCode;

fn main() -> ExitCode {
    let result = args::parse().and_then(|a| {
        if a.is_tensor_mode() {
            tensor_mode::run(&a)
        } else {
            image_mode::run(&a)
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
