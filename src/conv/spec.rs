//! The convolution's arguments as the geometry sees them: padding mode, data format and the
//! numbers a layer contributes. Pure data; depends on `error` only.

use crate::error::{Error, Result};

/// Keras `padding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Padding {
    /// No padding; the kernel must fit the input.
    #[default]
    Valid,
    /// Zero padding so that `out = ceil(in / stride)`; an odd total puts the extra pixel bottom/right.
    Same,
}

impl Padding {
    /// Keras's `standardize_padding`: case-insensitive.
    ///
    /// # Errors
    /// [`Error::InvalidPadding`] with the lower-cased value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.to_lowercase().as_str() {
            "valid" => Ok(Self::Valid),
            "same" => Ok(Self::Same),
            other => Err(Error::InvalidPadding(other.to_string())),
        }
    }

    /// The name Keras writes.
    pub fn keras_name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Same => "same",
        }
    }
}

/// Keras `data_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataFormat {
    /// `(N, H, W, C)`: Keras's default.
    #[default]
    ChannelsLast,
    /// `(N, C, H, W)`.
    ChannelsFirst,
}

impl DataFormat {
    /// Keras's `standardize_data_format`: case-insensitive.
    ///
    /// # Errors
    /// [`Error::InvalidDataFormat`] with the lower-cased value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.to_lowercase().as_str() {
            "channels_last" => Ok(Self::ChannelsLast),
            "channels_first" => Ok(Self::ChannelsFirst),
            other => Err(Error::InvalidDataFormat(other.to_string())),
        }
    }

    /// The name Keras writes.
    pub fn keras_name(self) -> &'static str {
        match self {
            Self::ChannelsLast => "channels_last",
            Self::ChannelsFirst => "channels_first",
        }
    }
}

/// The layer arguments the geometry depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvParams {
    /// Output channels.
    pub filters: u32,
    /// Kernel height and width.
    pub kernel_size: [u32; 2],
    /// Strides.
    pub strides: [u32; 2],
    /// Dilation rate.
    pub dilation_rate: [u32; 2],
    /// Padding mode.
    pub padding: Padding,
    /// Channel groups.
    pub groups: u32,
    /// Layout.
    pub data_format: DataFormat,
}
