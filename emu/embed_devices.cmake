# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Writes OUT, a C file holding the text of every emu/devices/*.json (DIR) as
# emu_builtins[] (emu_internal.h): the built-in devices of dfukit-emu, so
# that the program needs no installed data files. Run by emu/CMakeLists.txt
# at build time (cmake -DDIR=... -DOUT=... -P embed_devices.cmake).
file(GLOB files "${DIR}/*.json")
if(NOT files)
  message(FATAL_ERROR "no device descriptions in ${DIR}")
endif()
# In name order ("dfu11" before "dfu11-will-detach"): --list-profiles.
set(names "")
foreach(f ${files})
  get_filename_component(name "${f}" NAME_WLE)
  list(APPEND names "${name}")
endforeach()
list(SORT names)
set(files "")
foreach(name ${names})
  list(APPEND files "${DIR}/${name}.json")
endforeach()
set(arrays "")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name "${f}" NAME_WLE)
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # Lines of 16 bytes, for a readable diff of the generated file.
  string(REGEX REPLACE "((0x..,){16})" "\\1\n  " bytes "${bytes}")
  string(APPEND arrays "/* ${name}.json */\nstatic const unsigned char text${i}[] = {\n  ${bytes}0};\n\n")
  string(APPEND table "    {\"${name}\", text${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "/* Generated from the JSON files in emu/devices by emu/embed_devices.cmake: do not edit. */
#include \"emu_internal.h\"

${arrays}const emu_builtin emu_builtins[] = {
${table}};
const size_t emu_nbuiltins = ${i};
")
# Rewritten only when it changed: no needless rebuilds.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
