// detail/stb_end.hpp — closes detail/stb_begin.hpp. No include guard.
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
