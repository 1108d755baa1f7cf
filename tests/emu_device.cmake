# dfukit-emu --device FILE: device descriptions in JSON (emu/emu_desc.c,
# doc/device-format.md) and the built-in devices made of them (emu/devices/).

# The built-in devices, driven in-process through a fixed script, against
# the log recorded from the C profile tables they replaced.
add_executable(test_emu_builtin ${CMAKE_CURRENT_SOURCE_DIR}/emu/test_emu_builtin.c)
target_link_libraries(test_emu_builtin PRIVATE dfukit_emu_core)
add_test(NAME emu_builtin_devices COMMAND test_emu_builtin ${CMAKE_CURRENT_SOURCE_DIR}/emu/builtin_devices.golden)
set_tests_properties(emu_builtin_devices PROPERTIES LABELS "unit;emu")
