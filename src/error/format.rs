//! Python-style printing of shapes and tuples, so messages read exactly as Keras's do.

/// A shape as Python prints a tuple: `(1, 5, 5, 3)`, `(4,)`, `()`.
pub(crate) fn py_shape(shape: &[usize]) -> String {
    py_seq(shape.iter().map(|d| d.to_string()), '(', ')', shape.len() == 1)
}

/// A pair as Python prints a tuple: `(2, 2)`.
pub(crate) fn py_tuple<T: ToString>(pair: &[T; 2]) -> String {
    py_seq(pair.iter().map(|v| v.to_string()), '(', ')', false)
}

/// Items joined as Python joins them, with a trailing comma for one-tuples.
pub(crate) fn py_seq(items: impl Iterator<Item = String>, open: char, close: char, one_tuple: bool) -> String {
    let body: Vec<String> = items.collect();
    let comma = if one_tuple { "," } else { "" };
    format!("{open}{}{comma}{close}", body.join(", "))
}

/// A float as Python's `repr` prints it for the values that appear in messages (`-1.0`, `0.01`, `1e-07`).
pub(crate) fn py_float(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e16) {
        let s = format!("{v:e}");
        // Rust prints `1e-7`; Python prints `1e-07`.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_floats_print_like_python() {
        assert_eq!(py_shape(&[1, 5, 5, 3]), "(1, 5, 5, 3)");
        assert_eq!(py_shape(&[4]), "(4,)");
        assert_eq!(py_tuple(&[2u32, 1]), "(2, 1)");
        assert_eq!(py_float(-1.0), "-1.0");
        assert_eq!(py_float(0.01), "0.01");
        assert_eq!(py_float(1e-7), "1e-07");
        assert_eq!(py_float(2.5), "2.5");
    }
}
