//! A piece of a convolution's work: a batch range and an output-row band, with the input rows it
//! reads. Pure geometry: the planner cuts calls into chunks, the kernels size their dispatches by them.

use crate::conv::Conv2dGeometry;

/// One piece of the work: a batch range and an output-row range, with the input rows it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First image.
    pub batch_start: usize,
    /// Images in the chunk.
    pub batch_len: usize,
    /// First output row.
    pub out_row_start: usize,
    /// Output rows in the chunk.
    pub out_rows: usize,
    /// First input row the chunk reads (its halo included).
    pub in_row_start: usize,
    /// Input rows the chunk reads.
    pub in_rows: usize,
}

impl Chunk {
    /// The whole of images `batch_start..batch_start + batch_len`.
    pub fn images(g: &Conv2dGeometry, batch_start: usize, batch_len: usize) -> Self {
        Self {
            batch_start,
            batch_len,
            out_row_start: 0,
            out_rows: g.out_h,
            in_row_start: 0,
            in_rows: g.in_h,
        }
    }

    /// Output rows `out_row_start..out_row_start + out_rows` of image `n`, with the input rows they read.
    pub fn band(g: &Conv2dGeometry, n: usize, out_row_start: usize, out_rows: usize) -> Self {
        let (in_row_start, in_rows) = input_rows(g, out_row_start, out_rows);
        Self {
            batch_start: n,
            batch_len: 1,
            out_row_start,
            out_rows,
            in_row_start,
            in_rows,
        }
    }

    /// Output pixels of the chunk (`batch_len · out_rows · out_w`), or `None` on overflow.
    pub fn pixels(&self, g: &Conv2dGeometry) -> Option<u64> {
        (self.batch_len as u64)
            .checked_mul(self.out_rows as u64)?
            .checked_mul(g.out_w as u64)
    }
}

/// Input rows an output-row range reads, clamped to the input: `(start, len)`.
pub fn input_rows(g: &Conv2dGeometry, out_start: usize, out_rows: usize) -> (usize, usize) {
    let eff_k = (g.kernel[0] - 1) * g.dilation[0] + 1;
    let first = (out_start * g.strides[0]) as i64 - g.pad[0] as i64;
    let last = ((out_start + out_rows - 1) * g.strides[0] + eff_k) as i64 - g.pad[0] as i64; // exclusive
    let start = first.clamp(0, g.in_h as i64) as usize;
    let end = last.clamp(0, g.in_h as i64) as usize;
    (start, end.saturating_sub(start))
}
