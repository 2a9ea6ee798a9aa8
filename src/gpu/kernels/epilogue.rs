//! What a conv kernel does in its write step (bias, element-wise activation) and the activation
//! ids the WGSL uses (`activate()` in shaders/activation.wgsl, the last-axis pass).

use crate::keras::activation::Activation;
use crate::keras::dtype::FloatType;

/// The fused write step of one call, and the activation that needs a pass of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epilogue {
    /// The layer's activation.
    pub activation: Activation,
    /// The layer adds a bias.
    pub has_bias: bool,
    /// The conv writes its output channels_first (a packed channels_first layer whose filters
    /// need no padding, on an algorithm that writes that layout); set by the planner.
    pub channels_first_output: bool,
    /// The policy's compute dtype: the write steps round to it (before and after the activation;
    /// the planner compiles it into the conv and last-axis programs' keys).
    pub round: FloatType,
}

impl Epilogue {
    /// The epilogue of a layer with `activation` and, when `has_bias`, a bias.
    pub fn new(activation: Activation, has_bias: bool) -> Self {
        Self {
            activation,
            has_bias,
            channels_first_output: false,
            round: FloatType::Float32,
        }
    }

    /// With the write steps rounding to `dtype`.
    pub fn rounded_to(mut self, dtype: FloatType) -> Self {
        self.round = dtype;
        self
    }

    /// The activation id the conv kernel applies in its write step (0: none, the last-axis pass
    /// applies it).
    pub fn fused_activation(&self) -> u32 {
        if self.activation.is_axis_reduction() {
            0
        } else {
            activation_id(self.activation)
        }
    }

    /// The activation id of the last-axis pass.
    pub fn last_axis_activation(&self) -> u32 {
        activation_id(self.activation)
    }

    /// True when the activation reduces over the last axis and runs as a second pass.
    pub fn needs_last_axis_pass(&self) -> bool {
        self.activation.is_axis_reduction()
    }
}

/// The id the shaders use for an activation (`activate()` in activation.wgsl, `last_axis.wgsl`).
pub fn activation_id(a: Activation) -> u32 {
    use Activation::*;
    match a {
        Linear => 0,
        Relu => 1,
        LeakyRelu => 2,
        Relu6 => 3,
        Elu => 4,
        Selu => 5,
        Celu => 6,
        Softplus => 7,
        Softsign => 8,
        Squareplus => 9,
        SoftShrink => 10,
        HardShrink => 11,
        TanhShrink => 12,
        SparsePlus => 13,
        Silu => 14,
        Gelu => 15,
        Tanh => 16,
        Sigmoid => 17,
        SparseSigmoid => 18,
        Exponential => 19,
        HardSigmoid => 20,
        HardSilu => 21,
        HardTanh => 22,
        Mish => 23,
        LogSigmoid => 24,
        Softmax => 100,
        LogSoftmax => 101,
        Sparsemax => 102,
        Glu => 103,
    }
}
