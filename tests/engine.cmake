# The pure engine layer (descriptors, memory maps, plans, matching, context,
# transport wrappers): unit tests that need no device. They link only these
# sources, so that they build and run while the I/O layer above changes.
add_library(dfukit_engine_pure STATIC
  ${CMAKE_SOURCE_DIR}/lib/usb_desc.c
  ${CMAKE_SOURCE_DIR}/lib/memmap.c
  ${CMAKE_SOURCE_DIR}/lib/plan.c
  ${CMAKE_SOURCE_DIR}/lib/ctx.c
  ${CMAKE_SOURCE_DIR}/lib/match.c
  ${CMAKE_SOURCE_DIR}/lib/transport.c
)
target_include_directories(dfukit_engine_pure PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/lib)
target_link_libraries(dfukit_engine_pure PUBLIC dfukit_formats)

foreach(t test_usb_desc test_memmap test_plan test_match test_ctx)
  dfk_unit_test(${t} dfukit_engine_pure)
endforeach()
