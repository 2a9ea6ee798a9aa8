// WGSL every program shares, after the element-type header.

// The linear invocation index of a dispatch folded into (x, y) by the planner's `fold_dispatch`
// (workgroups beyond the per-dimension limit continue in y).
fn folded_index(wg: vec3<u32>, groups: vec3<u32>, lid: u32, workgroup_size: u32) -> u32 {
    return (wg.y * groups.x + wg.x) * workgroup_size + lid;
}
