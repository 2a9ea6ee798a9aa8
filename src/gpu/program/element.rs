//! The element type of the tensors a program reads and writes: byte sizes, host encoding and
//! decoding, and the WGSL aliases (`Elem`, `Elem4`) every program's storage bindings are declared in.

use std::borrow::Cow;

/// How tensor elements are stored on the GPU. Accumulation is f32 whatever the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ElementType {
    /// IEEE binary32.
    #[default]
    F32,
    /// IEEE binary16 (`enable f16;`, the adapter's `SHADER_F16`); the kernels load it into f32
    /// and accumulate in f32.
    F16,
    /// bfloat16, which WGSL lacks: two values per `u32` (see `program/access.rs`), converted
    /// exactly to f32 on load and rounded to nearest even on store; no feature needed.
    BF16,
}

impl ElementType {
    /// Every element type, for tests and tools that iterate them.
    pub const ALL: &'static [ElementType] = &[ElementType::F32, ElementType::F16, ElementType::BF16];

    /// Bytes per element.
    pub fn bytes(self) -> u64 {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
        }
    }

    /// Bytes of `len` elements, or `None` on overflow.
    pub fn bytes_of(self, len: usize) -> Option<u64> {
        (len as u64).checked_mul(self.bytes())
    }

    /// The short name used in program labels and tools (`f32`).
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::BF16 => "bf16",
        }
    }

    /// The WGSL that opens every program: the storage aliases for this element type (`Elem4` for
    /// vec4 arrays, `ElemR`/`ElemW` for scalar arrays read/written through `program/access.rs`).
    pub fn wgsl_header(self) -> String {
        let scalar = "alias ElemR = Elem;\nalias ElemW = Elem;\n";
        match self {
            Self::F32 => format!("alias Elem = f32;\nalias Elem4 = vec4<f32>;\n{scalar}"),
            Self::F16 => format!("enable f16;\nalias Elem = f16;\nalias Elem4 = vec4<f16>;\n{scalar}"),
            Self::BF16 => format!(
                "alias Elem4 = vec2<u32>;\nalias ElemR = u32;\nalias ElemW = atomic<u32>;\n{}",
                super::access::BF16_HELPERS
            ),
        }
    }

    /// Host f32 values as this type's bytes (borrowed when no conversion is needed).
    pub fn encode(self, values: &[f32]) -> Cow<'_, [u8]> {
        match self {
            Self::F32 => Cow::Borrowed(bytemuck::cast_slice(values)),
            Self::F16 => Cow::Owned(
                values
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
            ),
            Self::BF16 => Cow::Owned(
                values
                    .iter()
                    .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
                    .collect(),
            ),
        }
    }

    /// This type's bytes as host f32 values.
    pub fn decode(self, bytes: &[u8]) -> Vec<f32> {
        match self {
            Self::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Self::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Self::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        }
    }
}

impl std::fmt::Display for ElementType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
