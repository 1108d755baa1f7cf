# The DFU/DfuSe engine: protocol logic over the transport interface, no OS I/O.
add_library(dfukit_engine STATIC
  lib/usb_desc.c
  lib/memmap.c
  lib/ctx.c
  lib/transport.c
  lib/match.c
  lib/find.c
  lib/dev.c
  lib/dfu.c
  lib/dfuse.c
  lib/plan.c
  lib/job.c
)
target_include_directories(dfukit_engine PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/lib)
target_link_libraries(dfukit_engine PUBLIC dfukit_formats)
