//! How the subgroup GEMMs split a group's filter vec4s over the 8 lanes of a workgroup: each lane
//! owns `cols` vec4 columns, so a column tile covers `8 · cols` vec4s (`32 · cols` filters).

/// Vec4 columns per lane for `fg4` filter vec4s, at most `max`: the fewest column tiles, then the
/// fewest columns per lane that keep that count. Taking `max` whenever `fg4` exceeds it computed
/// 64 columns for InceptionV3's 192 filters (48) and MobileNetV2's 144 (36); 3 columns per lane
/// compute 48 and ran those layers 1.15-1.86x faster on llvmpipe (21 layers, 1.26x in all).
pub(crate) fn lane_columns(fg4: usize, max: u32) -> u32 {
    let max = max.max(1) as usize;
    let tiles = fg4.div_ceil(8 * max).max(1);
    fg4.div_ceil(8 * tiles).clamp(1, max) as u32
}

/// Vec4 columns per lane for `fg4` filter vec4s over `row_tiles` pixel tiles on an adapter that
/// runs workgroups on `threads` CPU threads (0: not a CPU): [`lane_columns`]'s count, or fewer
/// where that leaves threads idle. llvmpipe hands each thread whole workgroups, so a dispatch
/// takes `ceil(workgroups / threads)` rounds (DenseNet121's 7x7 1x1 layers were one workgroup
/// on two threads; InceptionV3's 8x8 ones, three). A tile costs about `4 · cols + 3` (its
/// weight loads and updates grow with the columns, its input loads and broadcasts do not: 3 is
/// their share, counted on the generated code), so the count with the fewest rounds × cost
/// wins, ties to more columns. A dispatch of at least 8 rounds keeps [`lane_columns`]'s count
/// (at most an eighth of a round idle; the measured rule).
pub(crate) fn balanced_lane_columns(fg4: usize, max: u32, row_tiles: u64, threads: u32) -> u32 {
    let cols = lane_columns(fg4, max);
    if threads <= 1 || row_tiles.saturating_mul(column_tiles(fg4, cols)) >= 8 * threads as u64 {
        return cols;
    }
    let cost = |c: u32| {
        row_tiles
            .saturating_mul(column_tiles(fg4, c))
            .div_ceil(threads as u64)
            .saturating_mul(4 * c as u64 + 3)
    };
    (1..=cols).rev().min_by_key(|&c| cost(c)).unwrap_or(cols)
}

/// Column tiles for `fg4` filter vec4s at `cols` columns per lane.
pub(crate) fn column_tiles(fg4: usize, cols: u32) -> u64 {
    (fg4 as u64).div_ceil(8 * cols.max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_balanced_over_the_fewest_tiles() {
        // (filter vec4s, max, expected columns per lane)
        for (fg4, max, cols) in [
            (1, 4, 1),
            (8, 4, 1),
            (9, 4, 2),
            (16, 4, 2),
            (24, 4, 3),
            (32, 4, 4),
            (36, 4, 3),
            (48, 4, 3),
            (40, 4, 3),
            (64, 4, 4),
            (168, 4, 4),
            (80, 4, 4),
            (36, 2, 2),
            (20, 2, 2),
        ] {
            assert_eq!(lane_columns(fg4, max), cols, "fg4 {fg4}, max {max}");
        }
        // (filter vec4s, pixel tiles, threads, expected columns per lane)
        for (fg4, row_tiles, threads, cols) in [
            // DenseNet121's 7x7 -> 128: one workgroup at 4 columns, two at 2.
            (32, 1, 2, 2),
            // InceptionV3's 8x8 -> 384: three workgroups at 4, four at 3.
            (96, 1, 2, 3),
            // MobileNetV2's 7x7 -> 320: three at 4, four at 3.
            (80, 1, 2, 3),
            // ResNet50's 56x56 -> 256: 98 workgroups either way at 4 and 2; 4 stays.
            (64, 49, 2, 4),
            (32, 1, 16, 1),
        ] {
            assert_eq!(
                balanced_lane_columns(fg4, 4, row_tiles, threads),
                cols,
                "fg4 {fg4}, {row_tiles} pixel tiles, {threads} threads"
            );
        }
        for max in 1..=4 {
            for fg4 in 1..=300 {
                // Many workgroups, or no CPU threads to balance: the fewest tiles.
                assert_eq!(balanced_lane_columns(fg4, max, 16, 2), lane_columns(fg4, max));
                assert_eq!(balanced_lane_columns(fg4, max, 1, 0), lane_columns(fg4, max));
                let cols = lane_columns(fg4, max);
                let fewest = column_tiles(fg4, max);
                assert_eq!(
                    column_tiles(fg4, cols),
                    fewest,
                    "fg4 {fg4}, max {max}: more tiles than needed"
                );
                // No smaller count of columns keeps that many tiles.
                assert!(
                    cols == 1 || column_tiles(fg4, cols - 1) > fewest,
                    "fg4 {fg4}, max {max}"
                );
            }
        }
    }
}
