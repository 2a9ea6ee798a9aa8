//! What a compiled pipeline depends on: the program's name, its variant (tile sizes and other
//! compile-time numbers) and the element type. Shapes never enter a key: they go in uniforms.

use crate::keras::dtype::FloatType;
use std::fmt;

use crate::gpu::program::ElementType;

/// The most numbers a variant carries (the blocked kernels' kernel, strides, dilation and layout).
pub const MAX_VARIANT_PARAMS: usize = 8;

/// A program's compile-time numbers, named by the program's `variant_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Variant {
    values: [u32; MAX_VARIANT_PARAMS],
    len: u8,
}

impl Variant {
    /// The variant of a program without compile-time numbers.
    pub const NONE: Variant = Variant {
        values: [0; MAX_VARIANT_PARAMS],
        len: 0,
    };

    /// A variant holding `values` in the program's parameter order.
    ///
    /// # Panics
    /// When given more than [`MAX_VARIANT_PARAMS`] values (a programming error in a kernel).
    pub const fn of(values: &[u32]) -> Self {
        assert!(values.len() <= MAX_VARIANT_PARAMS, "too many variant parameters");
        let mut out = [0; MAX_VARIANT_PARAMS];
        let mut i = 0;
        while i < values.len() {
            out[i] = values[i];
            i += 1;
        }
        Self {
            values: out,
            len: values.len() as u8,
        }
    }

    /// The numbers, in the program's parameter order.
    pub fn values(&self) -> &[u32] {
        &self.values[..self.len as usize]
    }

    /// Number `i` (0 when absent).
    pub fn get(&self, i: usize) -> u32 {
        self.values().get(i).copied().unwrap_or(0)
    }

    /// `name=value` pairs, as the `wgsl` example takes them.
    pub fn describe(&self, names: &[&str]) -> String {
        names
            .iter()
            .zip(self.values())
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses `name=value` pairs in any order against `names`; every name must be given.
    ///
    /// # Errors
    /// A message naming the unknown, missing or malformed parameter.
    pub fn parse(names: &[&str], args: &[&str]) -> Result<Self, String> {
        let mut values = vec![None; names.len()];
        for arg in args {
            let (name, value) = arg
                .split_once('=')
                .ok_or_else(|| format!("`{arg}`: expected name=value"))?;
            let at = names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| format!("unknown parameter `{name}`; this program takes {names:?}"))?;
            values[at] = Some(
                value
                    .parse::<u32>()
                    .map_err(|_| format!("`{name}={value}`: not a non-negative integer"))?,
            );
        }
        let values: Vec<u32> = values
            .into_iter()
            .zip(names)
            .map(|(v, n)| v.ok_or_else(|| format!("missing parameter `{n}`")))
            .collect::<Result<_, _>>()?;
        Ok(Self::of(&values))
    }
}

/// An algorithm's identity: its registry name. Each folder under `gpu/kernels/` exports its
/// algorithms' ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmId(pub &'static str);

impl std::fmt::Display for AlgorithmId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Everything one compiled pipeline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgramKey {
    /// The program's name (its folder under `gpu/kernels/`, or the algorithm's name in it).
    pub program: &'static str,
    /// Its compile-time numbers.
    pub variant: Variant,
    /// The storage element type.
    pub element: ElementType,
    /// The compute dtype the write steps round to (`ROUND` in the WGSL): a compile-time choice,
    /// as a runtime branch costs software adapters both sides.
    pub round: FloatType,
}

impl ProgramKey {
    /// The same program with its write steps rounding to `round`.
    pub fn rounded(mut self, round: FloatType) -> Self {
        self.round = round;
        self
    }
}

impl fmt::Display for ProgramKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program)?;
        for v in self.variant.values() {
            write!(f, "_{v}")?;
        }
        write!(f, " ({}", self.element)?;
        if self.round != FloatType::Float32 {
            write!(f, ", rounding to {}", self.round.name())?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_describe_round_trip() {
        let names = ["rows", "cols"];
        let v = Variant::parse(&names, &["cols=4", "rows=64"]).unwrap();
        assert_eq!(v.values(), &[64, 4]);
        assert_eq!(v.describe(&names), "rows=64 cols=4");
        assert!(Variant::parse(&names, &["rows=64"]).unwrap_err().contains("cols"));
        assert!(Variant::parse(&names, &["depth=1"]).unwrap_err().contains("depth"));
        assert!(Variant::parse(&names, &["rows=-1", "cols=1"]).is_err());
    }
}
