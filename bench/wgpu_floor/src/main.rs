//! Fixed per-call overhead floor of wgpu 30 on the local adapter (lavapipe here).
//! Tiny WGSL kernel: data[i] += 1.0 over 1024 f32 (4 workgroups of 256).
//! Measures (median/min of N iterations, after warm-up):
//!   roundtrip : queue.write_buffer(4 KiB) + encode{dispatch, copy->staging} + submit
//!               + map_async + poll(Wait) + read 4 KiB + unmap         (what a call with upload+readback pays)
//!   dispatch  : encode{dispatch} + submit + poll(Wait)                (kernel launch + fence, no transfers)
//!   batched   : 100 dispatches in one encoder/submit + poll(Wait), reported per dispatch
//!   setup     : instance/adapter/device creation, shader module + pipeline creation (one-off costs)
//!   wait modes: dispatch + submit, then four ways to wait, calls interleaved: `wait` (poll(Wait),
//!               blocking), `spin` (poll(Poll) in a busy loop), `yield` (poll(Poll), yielding the
//!               thread between polls), `sleep` (poll(Poll), 20 us sleeps between); once on the
//!               trivial kernel and once on a pure-ALU one (`HEAVY` iterations of a vec4
//!               multiply-add per invocation, 64 x 64 invocations; default 20000)
//! Copied from ../shared/bench/wgpu_floor and extended with the wait modes, which decided
//! `WaitMode::Auto` (src/gpu/device/wait.rs).
//! Usage: cargo run --release -- [--iters N] [--out results.json]

use std::time::Instant;
use wgpu::util::DeviceExt;

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i < arrayLength(&data)) { data[i] = data[i] + 1.0; }
}
"#;

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    let med = if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) };
    (med, v[0], v[(n * 9) / 10])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: usize = args.iter().position(|a| a == "--iters").map(|i| args[i + 1].parse().unwrap()).unwrap_or(500);
    let out_path = args.iter().position(|a| a == "--out").map(|i| args[i + 1].clone())
        .unwrap_or_else(|| "wgpu_floor.json".into());
    const N: usize = 1024;

    let t = Instant::now();
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("no wgpu adapter (is mesa-vulkan-drivers installed?)");
    let info = adapter.get_info();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
        .expect("request_device");
    let setup_device_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!("adapter: {} ({:?}, {:?}, driver {} {})", info.name, info.device_type, info.backend, info.driver, info.driver_info);

    let t = Instant::now();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("add1"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("add1"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let setup_pipeline_ms = t.elapsed().as_secs_f64() * 1e3;

    let heavy_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("heavy"),
        source: wgpu::ShaderSource::Wgsl(r#"
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    var a = vec4<f32>(f32(gid.x) * 1e-6);
    for (var i = 0u; i < HEAVY; i++) { a = a * 0.999 + vec4<f32>(0.001); }
    if (gid.x < arrayLength(&data)) { data[gid.x] = a.x + a.y; }
}"#.replace("HEAVY", &std::env::var("HEAVY").unwrap_or("20000".into())).into()),
    });
    let heavy = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("heavy"), layout: None, module: &heavy_module, entry_point: Some("main"),
        compilation_options: Default::default(), cache: None,
    });
    let init: Vec<f32> = (0..N).map(|i| i as f32).collect();
    let buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("data"),
        contents: bytemuck::cast_slice(&init),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size: (N * 4) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bg = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: buf.as_entire_binding() }],
    });
    let wait = || {
        device.poll(wgpu::PollType::Wait { submission_index: None, timeout: None }).expect("poll");
    };
    let encode_dispatch = |enc: &mut wgpu::CommandEncoder, times: usize| {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bg, &[]);
        for _ in 0..times {
            pass.dispatch_workgroups((N as u32).div_ceil(256), 1, 1);
        }
    };

    let roundtrip = |host: &[f32]| -> Vec<f32> {
        queue.write_buffer(&buf, 0, bytemuck::cast_slice(host));
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encode_dispatch(&mut enc, 1);
        enc.copy_buffer_to_buffer(&buf, 0, &staging, 0, (N * 4) as u64);
        queue.submit(Some(enc.finish()));
        let slice = staging.slice(..);
        slice.map_async(wgpu::MapMode::Read, |r| r.expect("map"));
        wait();
        let out: Vec<f32> = bytemuck::cast_slice(&slice.get_mapped_range().expect("mapped range")).to_vec();
        staging.unmap();
        out
    };

    // first call (includes any lazy driver-side compilation)
    let t = Instant::now();
    let out = roundtrip(&init);
    let first_roundtrip_ms = t.elapsed().as_secs_f64() * 1e3;
    let ok = out.iter().enumerate().all(|(i, v)| *v == i as f32 + 1.0);
    assert!(ok, "wrong result from add-1 kernel");
    for _ in 0..50 {
        roundtrip(&init);
    }

    let mut rt = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let o = roundtrip(&init);
        rt.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(o);
    }
    let mut dp = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encode_dispatch(&mut enc, 1);
        queue.submit(Some(enc.finish()));
        wait();
        dp.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let hbg = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &heavy.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: buf.as_entire_binding() }],
    });
    let sleep_poll = || {
        loop {
            let st = device.poll(wgpu::PollType::Poll).expect("poll");
            if st.is_queue_empty() { break; }
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    };
    let spin = || {
        let t0 = Instant::now();
        loop {
            let st = device.poll(wgpu::PollType::Poll).expect("poll");
            if st.is_queue_empty() { break; }
            if t0.elapsed().as_secs() > 5 { panic!("timeout"); }
            std::hint::spin_loop();
        }
    };
    let spin_yield = || {
        loop {
            let st = device.poll(wgpu::PollType::Poll).expect("poll");
            if st.is_queue_empty() { break; }
            std::thread::yield_now();
        }
    };
    let mut wait_modes = Vec::new();
    for hv in [false, true] {
    let modes: [(&str, &dyn Fn()); 4] = [("wait", &wait), ("spin", &spin), ("yield", &spin_yield), ("sleep", &sleep_poll)];
    let mut all: Vec<Vec<f64>> = vec![vec![]; 4];
    for _ in 0..iters {
        for (k, (_, w)) in modes.iter().enumerate() {
            let t = Instant::now();
            let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            if hv {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
                pass.set_pipeline(&heavy);
                pass.set_bind_group(0, &hbg, &[]);
                pass.dispatch_workgroups(64, 1, 1);
            } else {
                encode_dispatch(&mut enc, 1);
            }
            queue.submit(Some(enc.finish()));
            w();
            all[k].push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    for (k, v) in all.into_iter().enumerate() {
        let (m, mi, p) = stats(v);
        println!("heavy={hv} {:<8} median {m:8.1} min {mi:8.1} p90 {p:8.1}", modes[k].0);
        wait_modes.push(serde_json::json!({"kernel": if hv { "heavy" } else { "trivial" }, "mode": modes[k].0,
            "median_us": m, "min_us": mi, "p90_us": p}));
    }
    }
    let batch = 100;
    let mut bt = Vec::new();
    for _ in 0..(iters / 10).max(10) {
        let t = Instant::now();
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encode_dispatch(&mut enc, batch);
        queue.submit(Some(enc.finish()));
        wait();
        bt.push(t.elapsed().as_secs_f64() * 1e6 / batch as f64);
    }
    let (rt_med, rt_min, rt_p90) = stats(rt);
    let (dp_med, dp_min, dp_p90) = stats(dp);
    let (bt_med, bt_min, bt_p90) = stats(bt);
    println!("adapter            : {} ({:?})", info.name, info.device_type);
    println!("setup device       : {setup_device_ms:.1} ms;  shader+pipeline: {setup_pipeline_ms:.2} ms;  first round-trip: {first_roundtrip_ms:.2} ms");
    println!("{:<34} {:>9} {:>9} {:>9}", "per call (us)", "median", "min", "p90");
    println!("{:<34} {:>9.1} {:>9.1} {:>9.1}", "roundtrip write+dispatch+readback", rt_med, rt_min, rt_p90);
    println!("{:<34} {:>9.1} {:>9.1} {:>9.1}", "dispatch+submit+wait", dp_med, dp_min, dp_p90);
    println!("{:<34} {:>9.1} {:>9.1} {:>9.1}", "batched (100/submit), per dispatch", bt_med, bt_min, bt_p90);
    let doc = serde_json::json!({
        "peer": "wgpu_floor",
        "wgpu": "30.0.1",
        "adapter": {"name": info.name, "device_type": format!("{:?}", info.device_type),
                     "backend": format!("{:?}", info.backend), "driver": info.driver, "driver_info": info.driver_info},
        "kernel": "data[i] += 1.0, 1024 f32, workgroup_size 256",
        "iters": iters,
        "setup_device_ms": setup_device_ms, "setup_shader_pipeline_ms": setup_pipeline_ms,
        "first_roundtrip_ms": first_roundtrip_ms,
        "roundtrip_us": {"median": rt_med, "min": rt_min, "p90": rt_p90},
        "dispatch_submit_wait_us": {"median": dp_med, "min": dp_min, "p90": dp_p90},
        "batched_per_dispatch_us": {"median": bt_med, "min": bt_min, "p90": bt_p90, "batch": batch},
        "heavy_iterations": std::env::var("HEAVY").unwrap_or("20000".into()),
        "wait_modes": wait_modes,
    });
    if let Some(d) = std::path::Path::new(&out_path).parent() {
        let _ = std::fs::create_dir_all(d);
    }
    std::fs::write(&out_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    eprintln!("wrote {out_path}");
}
