//! Every activation string Keras's Conv2D accepts, with Keras 3's definitions, computed in f64.
//! The GPU twin of this math lives in `shaders/activation.wgsl`.

use crate::error::{Error, Result};

/// A Keras activation by name. `swish` and `hard_swish` are aliases that serialize as
/// `silu` and `hard_silu`, as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Activation {
    Linear,
    Relu,
    LeakyRelu,
    Relu6,
    Elu,
    Selu,
    Celu,
    Softplus,
    Softsign,
    Squareplus,
    SoftShrink,
    HardShrink,
    TanhShrink,
    SparsePlus,
    Silu,
    Gelu,
    Tanh,
    Sigmoid,
    SparseSigmoid,
    Exponential,
    HardSigmoid,
    HardSilu,
    HardTanh,
    Mish,
    LogSigmoid,
    /// Softmax over the last axis (channels for channels_last, width for channels_first).
    Softmax,
    /// Log-softmax over the last axis.
    LogSoftmax,
    /// Sparsemax over the last axis, exactly as Keras 3.15 computes it.
    Sparsemax,
    /// Gated linear unit: the last axis split in two halves `a`, `b` → `a·σ(b)`.
    Glu,
}

/// Every name Keras's `activations.get` accepts, with what it resolves to.
/// `threshold` is absent: it needs arguments a string cannot carry.
pub const ACTIVATION_NAMES: [(&str, Activation); 31] = [
    ("linear", Activation::Linear),
    ("relu", Activation::Relu),
    ("leaky_relu", Activation::LeakyRelu),
    ("relu6", Activation::Relu6),
    ("elu", Activation::Elu),
    ("selu", Activation::Selu),
    ("celu", Activation::Celu),
    ("softplus", Activation::Softplus),
    ("softsign", Activation::Softsign),
    ("squareplus", Activation::Squareplus),
    ("soft_shrink", Activation::SoftShrink),
    ("hard_shrink", Activation::HardShrink),
    ("tanh_shrink", Activation::TanhShrink),
    ("sparse_plus", Activation::SparsePlus),
    ("silu", Activation::Silu),
    ("swish", Activation::Silu),
    ("gelu", Activation::Gelu),
    ("tanh", Activation::Tanh),
    ("sigmoid", Activation::Sigmoid),
    ("sparse_sigmoid", Activation::SparseSigmoid),
    ("exponential", Activation::Exponential),
    ("hard_sigmoid", Activation::HardSigmoid),
    ("hard_silu", Activation::HardSilu),
    ("hard_swish", Activation::HardSilu),
    ("hard_tanh", Activation::HardTanh),
    ("mish", Activation::Mish),
    ("log_sigmoid", Activation::LogSigmoid),
    ("softmax", Activation::Softmax),
    ("log_softmax", Activation::LogSoftmax),
    ("sparsemax", Activation::Sparsemax),
    ("glu", Activation::Glu),
];

const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

impl Activation {
    /// What `keras.activations.get(name)` returns. Case-sensitive, as in Keras (`"ReLU"` is rejected).
    ///
    /// # Errors
    /// `Could not interpret activation function identifier: <name>`; `threshold` gets an
    /// [`Error::Unsupported`] explaining that it needs arguments.
    pub fn from_name(name: &str) -> Result<Self> {
        if name == "threshold" {
            return Err(Error::Unsupported(
                "activation 'threshold' needs the arguments `threshold` and `default_value`, which an \
                 activation string cannot carry (Keras fails at call time: threshold() missing 2 required \
                 positional arguments)"
                    .into(),
            ));
        }
        ACTIVATION_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| Error::UnknownIdentifier {
                kind: "activation function",
                identifier: name.to_string(),
            })
    }

    /// The name Keras writes in `get_config()` (`swish` → `silu`, `hard_swish` → `hard_silu`).
    pub fn keras_name(self) -> &'static str {
        ACTIVATION_NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .expect("every activation has a name")
    }

    /// The shape of the activated output of a convolution whose output is `conv_shape`: glu halves
    /// the last axis (an odd one is rejected before this, by `Conv2d::compute_output_shape`);
    /// every other activation keeps the shape. The one place the activated shape is decided.
    pub fn output_shape(self, conv_shape: [usize; 4]) -> [usize; 4] {
        let [a, b, c, d] = conv_shape;
        if self == Self::Glu {
            [a, b, c, d / 2]
        } else {
            conv_shape
        }
    }

    /// True for the activations that reduce over the last axis (softmax, log_softmax, sparsemax, glu).
    pub fn is_axis_reduction(self) -> bool {
        matches!(self, Self::Softmax | Self::LogSoftmax | Self::Sparsemax | Self::Glu)
    }

    /// The element-wise value; axis reductions must go through [`apply_last_axis`].
    pub fn apply(self, x: f64) -> f64 {
        use Activation::*;
        match self {
            Linear | Softmax | LogSoftmax | Sparsemax | Glu => x,
            Relu => x.max(0.0),
            LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    0.2 * x
                }
            }
            Relu6 => x.clamp(0.0, 6.0),
            Elu => elu(x, 1.0),
            Selu => SELU_SCALE * elu(x, SELU_ALPHA),
            Celu => x.max(0.0) + (x.min(0.0)).exp_m1(),
            Softplus => softplus(x),
            Softsign => x / (1.0 + x.abs()),
            Squareplus => (x + (x * x + 4.0).sqrt()) / 2.0,
            SoftShrink => {
                if x > 0.5 {
                    x - 0.5
                } else if x < -0.5 {
                    x + 0.5
                } else {
                    0.0
                }
            }
            HardShrink => {
                if x.abs() > 0.5 {
                    x
                } else {
                    0.0
                }
            }
            TanhShrink => x - x.tanh(),
            SparsePlus => {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    x
                } else {
                    0.25 * (x + 1.0) * (x + 1.0)
                }
            }
            Silu => x * sigmoid(x),
            Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            Tanh => x.tanh(),
            Sigmoid => sigmoid(x),
            SparseSigmoid => (0.5 * (x + 1.0)).clamp(0.0, 1.0),
            Exponential => x.exp(),
            HardSigmoid => hard_sigmoid(x),
            HardSilu => x * hard_sigmoid(x),
            HardTanh => x.clamp(-1.0, 1.0),
            Mish => x * softplus(x).tanh(),
            LogSigmoid => -softplus(-x),
        }
    }
}

fn elu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// `log(1 + eˣ)` without overflow: `max(x, 0) + log1p(e^−|x|)`.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1/(1 + e^−x)` evaluated on the side where the exponential cannot overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn hard_sigmoid(x: f64) -> f64 {
    (x / 6.0 + 0.5).clamp(0.0, 1.0)
}

/// Applies an axis-reducing activation to one vector `lane` of the last axis, in place.
/// `glu` halves the vector: `out` receives `len/2` values, the others fill all of it.
pub fn apply_last_axis(activation: Activation, lane: &[f64], out: &mut [f64]) {
    match activation {
        Activation::Softmax => {
            let max = lane.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = lane.iter().map(|v| (v - max).exp()).sum();
            lane.iter()
                .zip(out.iter_mut())
                .for_each(|(v, o)| *o = (v - max).exp() / sum);
        }
        Activation::LogSoftmax => {
            let max = lane.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = lane.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            lane.iter().zip(out.iter_mut()).for_each(|(v, o)| *o = v - max - lse);
        }
        Activation::Sparsemax => sparsemax(lane, out),
        Activation::Glu => {
            let half = lane.len() / 2;
            for i in 0..half {
                out[i] = lane[i] * sigmoid(lane[half + i]);
            }
        }
        other => lane.iter().zip(out.iter_mut()).for_each(|(v, o)| *o = other.apply(*v)),
    }
}

/// Keras 3.15's sparsemax (`keras/src/backend/tensorflow/nn.py`), reproduced as written:
/// `tau = (Σ_{j in support} cumsum_j − 1) / k`. Note this sums the cumulative sums over the
/// support, where Martins et al. use only `cumsum_k`; Keras is the judge, so we match it.
fn sparsemax(lane: &[f64], out: &mut [f64]) {
    let mut sorted = lane.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut cumsum = 0.0;
    let (mut k, mut support_sum) = (0.0, 0.0);
    for (i, &v) in sorted.iter().enumerate() {
        cumsum += v;
        if v - (cumsum - 1.0) / (i as f64 + 1.0) > 0.0 {
            k += 1.0;
            support_sum += cumsum;
        }
    }
    let tau = (support_sum - 1.0) / k;
    lane.iter()
        .zip(out.iter_mut())
        .for_each(|(v, o)| *o = (v - tau).max(0.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_inputs_stay_finite() {
        for a in ACTIVATION_NAMES.iter().map(|(_, a)| *a) {
            if a == Activation::Exponential {
                continue;
            }
            for x in [-1e4, -800.0, -50.0, 50.0, 800.0, 1e4] {
                assert!(a.apply(x).is_finite(), "{a:?}({x}) = {}", a.apply(x));
            }
        }
        assert_eq!(Activation::Sigmoid.apply(-800.0), 0.0);
        assert_eq!(Activation::Softplus.apply(800.0), 800.0);
        assert_eq!(Activation::Mish.apply(800.0), 800.0);
    }

    #[test]
    fn keras_three_definitions() {
        assert_eq!(Activation::HardSigmoid.apply(1.5), 0.75); // x/6 + 1/2, not Keras 2's 0.2x + 0.5
        assert_eq!(Activation::LeakyRelu.apply(-1.0), -0.2);
        let g = Activation::Gelu.apply(1.0); // exact erf form: 0.8413447460685429
        assert!((g - 0.841_344_746_068_542_9).abs() < 1e-15, "{g}");
        assert_eq!(Activation::from_name("swish").unwrap().keras_name(), "silu");
        assert_eq!(Activation::from_name("hard_swish").unwrap().keras_name(), "hard_silu");
        assert!(Activation::from_name("ReLU").is_err());
    }
}
