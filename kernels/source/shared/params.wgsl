## The Params uniform of the kernels that share a layout, each layout written once: the host
## writes one Params buffer for all the kernels of a call. Parameter layout:
## - 2x2: 32 bytes, eight u32, the 2x2 / stride 2 kernels (forward, backward, weights);
## - general_forward, general_backward: 64 bytes, sixteen u32, the general window kernels (one
##   layout: the forward kernel names the last four unused, the ranks and gather passes read them).
struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
#if layout == 2x2
  k: u32,
  work_items: u32,
  unused: u32,
#else
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
#endif
#if layout == general_forward
  unused0: u32,
  unused1: u32,
  unused2: u32,
  unused3: u32,
#elif layout == general_backward
  segment: u32,
  segments: u32,
  rank_plane: u32,
  per_channel: u32,
#endif
}
