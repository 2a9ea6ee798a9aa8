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
        for max in 1..=4 {
            for fg4 in 1..=300 {
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
