# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-gui: in-process GTK tests and black-box tests over the
# accessibility bus (dogtail), label "gui". Only when the GUI is built.
if(NOT DFUKIT_GUI_BUILT)
  return()
endif()
# The window's model without a display: device-list diff, option bytes.
add_executable(test_gui_model ${CMAKE_CURRENT_SOURCE_DIR}/gui/test_gui_model.c)
target_link_libraries(test_gui_model PRIVATE dfukit_gui_core)
add_test(NAME gui_model COMMAND test_gui_model --tap)
set_tests_properties(gui_model PROPERTIES LABELS "gui;unit" TIMEOUT 60)

# Station mode without a display: rows, counters, and new arrivals for
# auto-flash through dfk_watch, fed by a dfukit-emu serving two devices.
add_executable(test_gui_station ${CMAKE_CURRENT_SOURCE_DIR}/gui/test_gui_station.c)
target_link_libraries(test_gui_station PRIVATE dfukit_gui_core)
add_test(NAME gui_station COMMAND test_gui_station $<TARGET_FILE:dfukit-emu> --tap)
set_tests_properties(gui_station PROPERTIES LABELS "gui;unit" TIMEOUT 60)

find_program(DFUKIT_XVFB_RUN xvfb-run)
find_program(DFUKIT_DBUS_RUN_SESSION dbus-run-session)
if(NOT DFUKIT_XVFB_RUN OR NOT DFUKIT_DBUS_RUN_SESSION OR NOT EXISTS /usr/lib/python3/dist-packages/dogtail)
  message(WARNING "dfukit-gui is built but its tests need xvfb, dbus and python3-dogtail "
                  "(bash scripts/deps.sh gui): the gui tests are not registered")
  return()
endif()
add_executable(test_gui_window ${CMAKE_CURRENT_SOURCE_DIR}/gui/test_gui_window.c)
target_link_libraries(test_gui_window PRIVATE dfukit_gui_core)
add_test(NAME gui_window COMMAND xvfb-run -a env GTK_A11Y=test NO_AT_BRIDGE=1 GSK_RENDERER=cairo
                                 $<TARGET_FILE:test_gui_window> --tap)
set_tests_properties(gui_window PROPERTIES LABELS gui TIMEOUT 120)

foreach(scenario flash fault read erase cancel hotplug optionbytes optionbytes_confirmed station station_fault station_auto)
  add_test(NAME gui_a11y_${scenario}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/gui/a11y_session.sh /usr/bin/python3
                   ${CMAKE_CURRENT_SOURCE_DIR}/gui/a11y_test.py ${CMAKE_BINARY_DIR} ${scenario})
  set_tests_properties(gui_a11y_${scenario} PROPERTIES LABELS gui TIMEOUT 240 RUN_SERIAL TRUE)
endforeach()

dfk_script_test(gui_metadata gui/metadata.sh gui)
