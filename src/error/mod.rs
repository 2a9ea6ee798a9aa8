//! The crate's one error type: a variant per class of mistake, messages in Keras's words.

pub(crate) mod format;

use format::{py_shape, py_tuple};

/// Everything that can go wrong, from a bad Keras argument to a lost GPU.
///
/// Where Keras raises a `ValueError` for the same mistake, the message is Keras's text
/// (Keras 3.15.1), so a user porting a model sees what Keras would have said.
#[non_exhaustive]
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// `kernel_size`, `strides` or `dilation_rate` is not a pair of positive integers.
    #[error("The `{argument}` argument must be a tuple of 2 integers. Received {argument}={received}{detail}")]
    InvalidTuple {
        /// Keras argument name.
        argument: &'static str,
        /// The value as Keras would print it (`(1, 0)`, `[3, 0]`, `0`).
        received: String,
        /// `, including values {0} that do not satisfy `value > 0`` or empty (wrong arity).
        detail: String,
    },
    /// `padding` is not `valid` or `same` (any case).
    #[error("The `padding` argument must be a list/tuple or one of {{'valid', 'same'}}. Received: {0}")]
    InvalidPadding(String),
    /// `data_format` is not `channels_first` or `channels_last` (any case).
    #[error(
        "The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. Received: data_format={0}"
    )]
    InvalidDataFormat(String),
    /// An activation, initializer, regularizer or constraint identifier Keras does not know.
    #[error("Could not interpret {kind} identifier: {identifier}")]
    UnknownIdentifier {
        /// `activation function`, `initializer`, `regularizer` or `constraint`.
        kind: &'static str,
        /// The identifier as received.
        identifier: String,
    },
    /// `filters` is zero or negative.
    #[error("Invalid value for argument `filters`. Expected a strictly positive value. Received filters={0}.")]
    InvalidFilters(i64),
    /// `groups` is zero or negative.
    #[error("The number of groups must be a positive integer. Received: groups={0}.")]
    InvalidGroups(i64),
    /// `filters` is not a multiple of `groups`.
    #[error("The number of filters must be evenly divisible by the number of groups. Received: groups={groups}, filters={filters}.")]
    FiltersNotDivisibleByGroups {
        /// Received groups.
        groups: i64,
        /// Received filters.
        filters: i64,
    },
    /// A stride above 1 together with a dilation above 1.
    #[error("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides={} and dilation_rate={}", py_tuple(.strides), py_tuple(.dilation_rate))]
    StridesWithDilation {
        /// Received strides.
        strides: [u32; 2],
        /// Received dilation rate.
        dilation_rate: [u32; 2],
    },
    /// A numeric argument of an initializer, regularizer, constraint or activation is out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// A JSON config that is not what `layer.get_config()` emits.
    #[error("Invalid Keras config: key `{key}`: {message}")]
    InvalidJson {
        /// The offending key (dotted path).
        key: String,
        /// What was wrong with it.
        message: String,
    },
    /// The input's channel count is not a multiple of `groups` (raised when the layer is built).
    #[error("The number of input channels must be evenly divisible by the number of groups. Received groups={groups}, but the input has {channels} channels (full input shape is {}).", py_shape(.input_shape))]
    InputChannelsNotDivisibleByGroups {
        /// The layer's groups.
        groups: u32,
        /// The input's channel count.
        channels: usize,
        /// The full input shape.
        input_shape: Vec<usize>,
    },
    /// `valid` padding with a kernel that does not fit the input.
    #[error("Computed output size would be zero or negative. Received `inputs shape={}`, `kernel shape={}`, `dilation_rate=[{} {}]`, `strides={}`, `padding=valid`.", py_shape(.input_shape), py_shape(.kernel_shape), .dilation_rate[0], .dilation_rate[1], py_tuple(.strides))]
    OutputSizeNonPositive {
        /// The full input shape.
        input_shape: Vec<usize>,
        /// `(kh, kw, Cin, filters)` as Keras prints it (all input channels).
        kernel_shape: Vec<usize>,
        /// The layer's dilation rate.
        dilation_rate: [u32; 2],
        /// The layer's strides.
        strides: [u32; 2],
    },
    /// The input is not 4-D.
    #[error("{0}")]
    InputRank(String),
    /// The input's channel count differs from the one the layer was built for.
    #[error("Input 0 with name 'None' of layer '{layer}' is incompatible with the layer: expected axis {axis} of input shape to have value {expected}, but received input with shape {}", py_shape(.input_shape))]
    InputChannelMismatch {
        /// The layer's name.
        layer: String,
        /// `-1` (channels_last) or `1` (channels_first).
        axis: i32,
        /// The channel count the layer was built for.
        expected: usize,
        /// The full input shape.
        input_shape: Vec<usize>,
    },
    /// A flat buffer whose length is not the product of its shape.
    #[error("`{argument}` has {len} elements, but shape {} needs {needed}", py_shape(.shape))]
    BufferLength {
        /// Which tensor.
        argument: &'static str,
        /// The buffer's length.
        len: usize,
        /// The declared shape.
        shape: Vec<usize>,
        /// The product of the shape.
        needed: usize,
    },
    /// `set_weights` with a tensor of the wrong shape.
    #[error("Layer {layer} weight shape {} is not compatible with provided weight shape {}.", py_shape(.expected), py_shape(.received))]
    WeightShape {
        /// The layer's name.
        layer: String,
        /// The shape the layer holds.
        expected: Vec<usize>,
        /// The shape given.
        received: Vec<usize>,
    },
    /// `set_weights` with the wrong number of tensors.
    #[error("You called `set_weights(weights)` on layer '{layer}' with a weight list of length {received}, but the layer was expecting {expected} weights.")]
    WeightCount {
        /// The layer's name.
        layer: String,
        /// How many the layer holds.
        expected: usize,
        /// How many were given.
        received: usize,
    },
    /// The layer has no weights yet: call `build` (or give weights) first.
    #[error("Layer '{0}' is not built: call `build(input_shape)` or `set_weights` before `{1}`.")]
    NotBuilt(String, &'static str),
    /// `enable_lora` on a layer with a kernel constraint.
    #[error("Lora is incompatible with kernel constraints. In order to enable lora on this layer, remove the `kernel_constraint` argument.")]
    LoraWithConstraint,
    /// `enable_lora` before `build`.
    #[error("Cannot enable lora on a layer that isn't yet built.")]
    LoraNotBuilt,
    /// `enable_lora` twice.
    #[error("lora is already enabled. This can only be done once per layer.")]
    LoraAlreadyEnabled,
    /// Something Keras accepts that this crate does not do (named, with the reason).
    #[error("Unsupported: {0}")]
    Unsupported(String),
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS's or the parser's message.
        message: String,
    },
    /// No GPU adapter matched (or none exists).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter refused the device request.
    #[error("GPU error: request_device on {adapter}: {source}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's error.
        source: GpuSource,
    },
    /// A WGSL program failed to compile: wgpu's message (naga's diagnostic) and the program.
    #[error("GPU error: compiling {program}: {source}")]
    ShaderCompile {
        /// The program and variant (its pipeline label).
        program: String,
        /// wgpu's error, holding naga's message.
        source: GpuSource,
    },
    /// wgpu rejected an operation as invalid: a crate bug, or a wait that could not be done.
    #[error("GPU error: {operation}: {source}")]
    Validation {
        /// What the crate was doing.
        operation: String,
        /// wgpu's error.
        source: GpuSource,
    },
    /// The GPU ran out of memory for a buffer or a pipeline.
    #[error("GPU out of memory: {operation}: {source}")]
    OutOfMemory {
        /// What the crate was doing.
        operation: String,
        /// wgpu's error (or the injected fault's).
        source: GpuSource,
    },
    /// The device was lost (destroyed, reset, removed).
    #[error("GPU device lost: {message}")]
    DeviceLost {
        /// Which device, and what to do.
        message: String,
        /// The error the loss surfaced as, when there was one.
        source: Option<GpuSource>,
    },
    /// A wait on the GPU took longer than the context's timeout.
    #[error("GPU timeout: {operation}: the GPU did not finish within {waited:?}")]
    Timeout {
        /// What the crate was waiting for.
        operation: String,
        /// The context's timeout.
        waited: std::time::Duration,
    },
    /// A thread panicked while holding one of the crate's locks; the data behind it is suspect.
    #[error("GPU error: a thread panicked while holding {0}")]
    PoisonedLock(&'static str),
    /// A size whose computation overflows.
    #[error("{0} overflows: the tensor is too large")]
    SizeOverflow(&'static str),
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying error of a GPU failure, shared so that [`Error`] stays `Clone`. Two sources are
/// equal when they say the same thing.
#[derive(Debug, Clone)]
pub struct GpuSource(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl GpuSource {
    /// Wraps an error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(error))
    }

    /// A source that is only a message (an injected fault, a failed mapping).
    pub fn message(text: impl Into<String>) -> Self {
        Self::new(Message(text.into()))
    }
}

impl std::fmt::Display for GpuSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for GpuSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

impl PartialEq for GpuSource {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

#[derive(Debug)]
struct Message(String);

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
