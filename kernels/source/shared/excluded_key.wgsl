## EXCLUDED_KEY: the lowest sort key (SPEC.md §4; sort_key.wgsl), below every value's key, for the
## cells that take no part in the ranking. Not in sort_key.wgsl itself: general_ranks.wgsl declares
## PADDED between the two, and the softmax kernels have no use for it.
## Parameter window: 2x2 (backward.wgsl: a padded cell when k = 1) or general (general_forward.wgsl,
## general_ranks.wgsl: also a rank of the selection network not yet filled).
//[window == 2x2] The key of a padded cell when k = 1: below every value's key, so it never ranks first.
//[window == general] The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
//[window == general] every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;
