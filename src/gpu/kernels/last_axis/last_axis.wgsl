// Activations that reduce over the last axis (softmax, log_softmax, sparsemax, glu): one invocation
// per lane of `len` contiguous values. The last axis is contiguous in both data formats (channels
// for channels_last, width for channels_first). Prepended with the shared WGSL
// (see program/wgsl.rs).


// Shape parameters of the last-axis pass. Kept in sync with `LastAxisUniform` in src/gpu/kernels/last_axis/mod.rs.
struct LastAxisParams {
    lanes: u32, len: u32, activation: u32, _pad: u32,
}

const WORKGROUP: u32 = 64u;
const SOFTMAX: u32 = 100u;
const LOG_SOFTMAX: u32 = 101u;
const SPARSEMAX: u32 = 102u;
const GLU: u32 = 103u;

@group(0) @binding(0) var<uniform> q: LastAxisParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<ElemW>;

// The activation id.
fn kind() -> u32 {
    return q.activation;
}

fn load(i: u32) -> f32 {
    return LD(src, i);
}

// Writes `v` rounded to the compute dtype the program was compiled for.
fn store(i: u32, v: f32) {
    ST(dst, i, round_to(v));
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let lane = folded_index(wg, groups, lid, WORKGROUP);
    if (lane >= q.lanes) {
        return;
    }
    let base = lane * q.len;
    if (kind() == GLU) {
        let half = q.len / 2u;
        for (var i = 0u; i < half; i++) {
            store(lane * half + i, load(base + i) * sigmoid_f(load(base + half + i)));
        }
        return;
    }
    if (kind() == SPARSEMAX) {
        // Keras 3.15: sort descending, cumsum, support_k = z_(k) - (cumsum_k - 1)/k > 0,
        // tau = (sum of cumsum_k over the support - 1) / |support|. Ranks replace the sort.
        var support_sum = 0.0;
        var support_count = 0.0;
        for (var j = 0u; j < q.len; j++) {
            let zj = load(base + j);
            var rank = 1.0;
            var cumsum = 0.0;
            for (var i = 0u; i < q.len; i++) {
                let zi = load(base + i);
                if (zi > zj || (zi == zj && i <= j)) {
                    cumsum += zi;
                    rank += select(0.0, 1.0, i != j);
                }
            }
            if (zj - (cumsum - 1.0) / rank > 0.0) {
                support_sum += cumsum;
                support_count += 1.0;
            }
        }
        let tau = (support_sum - 1.0) / support_count;
        for (var j = 0u; j < q.len; j++) {
            store(base + j, max(load(base + j) - tau, 0.0));
        }
        return;
    }
    var m = load(base);
    for (var i = 1u; i < q.len; i++) {
        m = max(m, load(base + i));
    }
    var sum = 0.0;
    for (var i = 0u; i < q.len; i++) {
        sum += exp(load(base + i) - m);
    }
    if (kind() == LOG_SOFTMAX) {
        let lse = log(sum);
        for (var i = 0u; i < q.len; i++) {
            store(base + i, load(base + i) - m - lse);
        }
    } else {
        for (var i = 0u; i < q.len; i++) {
            store(base + i, exp(load(base + i) - m) / sum);
        }
    }
}
