//! The tuner's decision as a pure function of what was measured: the fastest candidate whose
//! output agrees with the reference algorithm's, the rules' choice unless another beats it by a
//! margin, so timing noise does not trade a kernel for an equal one.

use crate::gpu::program::AlgorithmId;

/// What tuning measured of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The candidate.
    pub algorithm: AlgorithmId,
    /// Median milliseconds per call, `None` when it failed to run.
    pub ms: Option<f64>,
    /// Largest difference from the reference algorithm's output, in units of the tolerance
    /// (above 1.0: wrong, never chosen).
    pub error: f64,
}

/// A faster candidate must beat the rules' choice by this fraction to replace it.
pub const MARGIN: f64 = 0.03;

/// The chosen algorithm among `measured` (`rules` is the registry's choice, measured too), and
/// its time; `None` when nothing correct ran.
pub fn pick(rules: AlgorithmId, measured: &[Measurement]) -> Option<(AlgorithmId, f64)> {
    let correct = |m: &&Measurement| m.error <= 1.0 && m.ms.is_some_and(f64::is_finite);
    let fastest = measured
        .iter()
        .filter(correct)
        .min_by(|a, b| a.ms.partial_cmp(&b.ms).unwrap_or(std::cmp::Ordering::Equal))?;
    let fastest_ms = fastest.ms?;
    match measured.iter().filter(correct).find(|m| m.algorithm == rules) {
        Some(r) if r.ms.is_some_and(|ms| fastest_ms >= ms * (1.0 - MARGIN)) => Some((rules, r.ms?)),
        _ => Some((fastest.algorithm, fastest_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: AlgorithmId = AlgorithmId("a");
    const B: AlgorithmId = AlgorithmId("b");
    const C: AlgorithmId = AlgorithmId("c");

    fn m(algorithm: AlgorithmId, ms: Option<f64>, error: f64) -> Measurement {
        Measurement { algorithm, ms, error }
    }

    #[test]
    fn the_fastest_correct_candidate_wins() {
        let got = pick(A, &[m(A, Some(10.0), 0.1), m(B, Some(6.0), 0.5), m(C, Some(8.0), 0.0)]);
        assert_eq!(got, Some((B, 6.0)));
    }

    #[test]
    fn a_wrong_candidate_is_never_chosen_however_fast() {
        let got = pick(
            A,
            &[m(A, Some(10.0), 0.0), m(B, Some(1.0), 1.5), m(C, Some(0.5), f64::NAN)],
        );
        assert_eq!(got, Some((A, 10.0)));
    }

    #[test]
    fn the_rules_keep_a_tie_within_the_margin() {
        assert_eq!(pick(A, &[m(A, Some(10.0), 0.0), m(B, Some(9.8), 0.0)]), Some((A, 10.0)));
        assert_eq!(pick(A, &[m(A, Some(10.0), 0.0), m(B, Some(9.0), 0.0)]), Some((B, 9.0)));
    }

    #[test]
    fn failures_and_wrong_rules_fall_to_the_others() {
        assert_eq!(pick(A, &[m(A, None, 0.0), m(B, Some(3.0), 0.0)]), Some((B, 3.0)));
        assert_eq!(pick(A, &[m(A, Some(1.0), 2.0), m(B, Some(3.0), 0.0)]), Some((B, 3.0)));
        assert_eq!(pick(A, &[m(A, None, 0.0)]), None);
        assert_eq!(pick(A, &[]), None);
    }
}
