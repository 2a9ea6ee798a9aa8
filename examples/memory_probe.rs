//! The cost of one vec4 read from a storage buffer, a uniform buffer, a texture and workgroup
//! memory, and of one vec4 write to a storage buffer and a storage texture, on the default
//! adapter: `cargo run --release --example memory_probe` (`LOADS=N` accesses per invocation,
//! default 64). Each kernel's median over 20 runs, less the empty kernel's, per access and
//! invocation. This is how the GEMMs came to read their weights from textures on llvmpipe.
//! `muladd` and `fma` time a dependent chain of 64 vec4 multiply-adds per access instead, written
//! as `a * x + b` and as `fma(a, x, b)`: equal on llvmpipe, which fuses neither.
use std::time::Instant;

const HEADER: &str = "
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
";

fn kernels() -> Vec<(&'static str, String)> {
    let body = |decl: &str, load: &str| -> String {
        format!(
            "{HEADER}{decl}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>) {{
    var acc = vec4<f32>(0.0);
    let g = gid.x;
    for (var i = 0u; i < LOADS; i = i + 1u) {{
        {load}
    }}
    out[g] = acc;
}}"
        )
    };
    vec![
        ("empty", body("", "acc = acc + vec4<f32>(f32(i));")),
        ("muladd", body("", "let x = vec4<f32>(f32(i)) * 1e-3; var a0 = acc; var a1 = acc + 1.0; var a2 = acc + 2.0; var a3 = acc + 3.0; for (var j = 0u; j < 16u; j++) { a0 = a0 * x + a1; a1 = a1 * x + a2; a2 = a2 * x + a3; a3 = a3 * x + a0; } acc = a0 + a1 + a2 + a3;")),
        ("fma", body("", "let x = vec4<f32>(f32(i)) * 1e-3; var a0 = acc; var a1 = acc + 1.0; var a2 = acc + 2.0; var a3 = acc + 3.0; for (var j = 0u; j < 16u; j++) { a0 = fma(a0, x, a1); a1 = fma(a1, x, a2); a2 = fma(a2, x, a3); a3 = fma(a3, x, a0); } acc = a0 + a1 + a2 + a3;")),
        (
            "ssbo_lane",
            body(
                "@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;",
                "acc = acc + src[(g + i * 64u) & 65535u];",
            ),
        ),
        (
            "ssbo_uniform",
            body(
                "@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;",
                "acc = acc + src[(wg.x + i * 64u) & 65535u];",
            ),
        ),
        (
            "ubo_lane",
            body(
                "@group(0) @binding(1) var<uniform> src: array<vec4<f32>, 4096>;",
                "acc = acc + src[(g + i * 64u) & 4095u];",
            ),
        ),
        (
            "ubo_uniform",
            body(
                "@group(0) @binding(1) var<uniform> src: array<vec4<f32>, 4096>;",
                "acc = acc + src[(wg.x + i * 64u) & 4095u];",
            ),
        ),
        (
            "texture_lane",
            body(
                "@group(0) @binding(1) var src: texture_2d<f32>;",
                "let k = (g + i * 64u) & 65535u; acc = acc + textureLoad(src, vec2<u32>(k & 255u, k >> 8u), 0);",
            ),
        ),
        (
            "workgroup_lane",
            body(
                "var<workgroup> src: array<vec4<f32>, 1024>;",
                "if (i == 0u) { src[li] = vec4<f32>(f32(li)); workgroupBarrier(); } acc = acc + src[(li + i * 7u) & 1023u];",
            ),
        ),
        (
            "ssbo_store",
            body(
                "@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;",
                "acc = acc + vec4<f32>(f32(i)); out[(g * LOADS + i) & 1048575u] = acc;",
            ),
        ),
        (
            "texture_store",
            body(
                "@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;",
                "acc = acc + vec4<f32>(f32(i)); let k = (g * LOADS + i) & 65535u; textureStore(dst, vec2<u32>(k & 255u, k >> 8u), acc);",
            ),
        ),
    ]
}

fn main() -> anyhow::Result<()> {
    let loads: u32 = std::env::var("LOADS").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let invocations: u32 = 16384;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))?;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 16 << 20,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let data: Vec<f32> = (0..65536 * 4).map(|i| (i % 97) as f32 * 0.01).collect();
    let ssbo = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 65536 * 16,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&ssbo, 0, bytemuck::cast_slice(&data));
    let ubo = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 65536,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&ubo, 0, bytemuck::cast_slice(&data[..16384]));
    let tex_desc = |usage| wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d {
            width: 256,
            height: 256,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Float,
        usage,
        view_formats: &[],
    };
    let tex = device.create_texture(&tex_desc(
        wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
    ));
    queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: &tex,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        bytemuck::cast_slice(&data),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(256 * 16),
            rows_per_image: Some(256),
        },
        wgpu::Extent3d {
            width: 256,
            height: 256,
            depth_or_array_layers: 1,
        },
    );
    let stex = device.create_texture(&tex_desc(wgpu::TextureUsages::STORAGE_BINDING));
    let tex_view = tex.create_view(&Default::default());
    let stex_view = stex.create_view(&Default::default());
    let mut baseline = 0.0;
    for (name, src) in kernels() {
        let src = src.replace("LOADS", &format!("{loads}u"));
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(src.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let second = match name {
            "empty" | "muladd" | "fma" | "workgroup_lane" | "ssbo_store" => None,
            "ubo_lane" | "ubo_uniform" => Some(ubo.as_entire_binding()),
            "texture_lane" => Some(wgpu::BindingResource::TextureView(&tex_view)),
            "texture_store" => Some(wgpu::BindingResource::TextureView(&stex_view)),
            _ => Some(ssbo.as_entire_binding()),
        };
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: out.as_entire_binding(),
        }];
        if let Some(r) = second {
            entries.push(wgpu::BindGroupEntry {
                binding: 1,
                resource: r,
            });
        }
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &entries,
        });
        let mut times = Vec::new();
        for run in 0..25 {
            let mut encoder = device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(invocations / 64, 1, 1);
            }
            let start = Instant::now();
            queue.submit([encoder.finish()]);
            device.poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })?;
            if run >= 5 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        if name == "empty" {
            baseline = median;
        }
        let per = (median - baseline) * 1e6 / (invocations as f64 * loads as f64);
        println!(
            "{name:16} median {median:8.3} ms  min {:8.3}  ns per vec4 per invocation over empty: {per:7.3}",
            times[0]
        );
    }
    Ok(())
}
