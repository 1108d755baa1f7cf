# File formats (lib/formats.cmake): unit tests.
foreach(t test_crc test_suffix test_prefix test_fileio test_image test_dfuse_file test_firmware test_fmt_mutate)
  dfk_unit_test(${t} dfukit_formats)
endforeach()
