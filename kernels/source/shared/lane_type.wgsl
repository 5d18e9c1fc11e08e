## One type of a kernel's variant block: `scalar` when an invocation handles one channel
## (lanes = 1), a vec4 of it when it handles four (lanes = 4).
## Parameters: name (the alias: Values, Bits, Keys, Cells, Lanes), scalar (f32, i32, u32, bool).
#if lanes == 1
alias {{name}} = {{scalar}};
#else
alias {{name}} = vec4<{{scalar}}>;
#endif
