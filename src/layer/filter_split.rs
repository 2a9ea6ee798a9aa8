//! A layer whose kernel exceeds one binding runs on the GPU as slices of its filters
//! ([`plan::filter_split`]): each slice is a layer of its own (its share of the kernel and bias,
//! the element-wise part of the activation), built once per weights version and device, and the
//! slices' outputs are merged into place on the GPU before any last-axis activation.

use std::sync::Arc;

use crate::conv::geometry::Conv2dGeometry;
use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::memory::binds::BindCache;
use crate::gpu::memory::tensor::TensorBuffer;
use crate::gpu::plan::filter_split::{self, FilterSlice};
use crate::gpu::{side_passes, GpuTensor};
use crate::tensor::Tensor;

use super::Conv2d;

/// The slices of one layer on one device, for one version of its weights.
pub(crate) struct SlicedLayer {
    context_id: u64,
    version: u64,
    /// Every kernel and bias value is finite (the GPU path assumes finite math).
    pub(super) finite: bool,
    pub(super) slices: Vec<(FilterSlice, Conv2d)>,
    binds: BindCache,
}

/// Columns `[g·per_group + offset, … + len)` of every group, from an HWIO kernel or a bias whose
/// last axis holds `groups · per_group` values.
fn take_filters(values: &[f32], filters: usize, groups: usize, slice: &FilterSlice) -> Vec<f32> {
    let per_group = filters / groups;
    values
        .chunks_exact(filters)
        .flat_map(|row| {
            (0..groups).flat_map(move |g| {
                let start = g * per_group + slice.offset;
                row[start..start + slice.per_group].iter().copied()
            })
        })
        .collect()
}

impl Conv2d {
    /// The filter slices `geometry` runs as on `ctx`, or `None` when its kernel fits one binding.
    pub(super) fn filter_slices(
        &self,
        ctx: &GpuContext,
        geometry: &Conv2dGeometry,
    ) -> Result<Option<Vec<FilterSlice>>> {
        let element = crate::gpu::plan::element_for(ctx.caps(), self.config.dtype.compute_dtype());
        filter_split::slices(geometry, ctx.caps(), element)
    }

    /// The slice layers for `slices`, built on first use and whenever the weights change.
    pub(super) fn sliced(&self, ctx: &GpuContext, slices: &[FilterSlice]) -> Result<Arc<SlicedLayer>> {
        let version = self.built("forward_on")?.version;
        let mut cache = self
            .gpu_weights
            .slices
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's filter slices"))?;
        if let Some(s) = cache
            .as_ref()
            .filter(|s| s.context_id == ctx.id && s.version == version)
        {
            return Ok(s.clone());
        }
        let kernel = self.compute_kernel()?;
        let bias = self.compute_bias()?;
        let bias = bias.as_deref();
        let [kh, kw, cin_g, filters]: [usize; 4] = kernel
            .shape()
            .try_into()
            .map_err(|_| Error::SizeOverflow("kernel rank"))?;
        let groups = self.config.groups as usize;
        let mut config = self.config.clone();
        config.activation = self.slice_epilogue()?.activation; // the last-axis part runs on the merged output
        let layers = slices
            .iter()
            .map(|slice| {
                let mut sub = config.clone();
                sub.filters = (groups * slice.per_group) as u32;
                let k = take_filters(kernel.data(), filters, groups, slice);
                let k = Tensor::new([kh, kw, cin_g, groups * slice.per_group], k)?;
                let b = bias
                    .map(|b| Tensor::new([groups * slice.per_group], take_filters(b, filters, groups, slice)))
                    .transpose()?;
                Ok((*slice, Conv2d::with_weights(sub, k, b)?))
            })
            .collect::<Result<_>>()?;
        let sliced = Arc::new(SlicedLayer {
            context_id: ctx.id,
            version,
            finite: kernel.data().iter().chain(bias.unwrap_or(&[])).all(|v| v.is_finite()),
            slices: layers,
            binds: BindCache::default(),
        });
        *cache = Some(sliced.clone());
        Ok(sliced)
    }

    /// The forward pass of a layer cut into `slices` on a resident input: each slice runs as a
    /// layer, then the merge passes and the last-axis activation run on the GPU.
    pub(super) fn forward_sliced(
        &self,
        geometry: &Conv2dGeometry,
        slices: &[FilterSlice],
        input: &GpuTensor,
    ) -> Result<GpuTensor> {
        let ctx = input.context();
        let sliced = self.sliced(ctx, slices)?;
        // Cast once for all the slices (each would otherwise cast the same input again).
        let element = crate::gpu::plan::element_for(ctx.caps(), self.config.dtype.compute_dtype());
        let cast = self.cast_input(input, element, &sliced.binds)?;
        let source = cast.as_ref().unwrap_or(input);
        let outputs = sliced
            .slices
            .iter()
            .map(|(_, layer)| layer.forward_gpu(source))
            .collect::<Result<Vec<_>>>()?;
        let plan = filter_split::merge_plan(geometry, slices, ctx.caps(), element, &self.epilogue()?)?;
        let parts: Vec<_> = outputs.iter().map(|t| t.buffer.bound()).collect();
        let buffer = side_passes::merge_slices(ctx, &sliced.binds, &parts, &plan, element)?;
        Ok(GpuTensor {
            ctx: ctx.clone(),
            buffer: TensorBuffer::Pooled(buffer),
            shape: self.activated_shape(geometry)?.to_vec(),
            element,
            values_in: self.config.dtype.compute_dtype(),
        })
    }
}
