/* keeps dfukit_emu_core non-empty until the device model lands */
int emu_placeholder_unused;
