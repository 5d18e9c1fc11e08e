## The pipeline constants of the general window kernels. No parameters.
override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;
