# Install rules and the Debian package, for a top-level build: the library, its headers, CMake
# package files (find_package(ringfile) -> ringfile::ringfile), a pkg-config file, the programs
# with their manual pages and bash completions. `cmake --install BUILD [--prefix DIR]`;
# `cpack -G DEB` in the build directory.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RINGFILE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ringfile)

install(TARGETS ringfile ringfile_common EXPORT ringfileTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/ringfile ${PROJECT_SOURCE_DIR}/common/include/ringfile
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/lib/include/ringfile/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringfile)
install(EXPORT ringfileTargets NAMESPACE ringfile:: DESTINATION ${RINGFILE_CMAKE_DIR} FILE ringfileTargets.cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ringfileConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ringfileConfig.cmake INSTALL_DESTINATION ${RINGFILE_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ringfileConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ringfileConfig.cmake ${PROJECT_BINARY_DIR}/ringfileConfigVersion.cmake
        DESTINATION ${RINGFILE_CMAKE_DIR})

# The .pc file finds the prefix from its own place, so the installed tree can be moved.
file(RELATIVE_PATH RINGFILE_PC_PREFIX_FROM_PCDIR ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
if(RINGFILE_PC_PREFIX_FROM_PCDIR STREQUAL "")
  set(RINGFILE_PC_PREFIX_FROM_PCDIR ".")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/ringfile.pc.in ${PROJECT_BINARY_DIR}/ringfile.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ringfile.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Each program, with a manual page and a bash completion made from its own options.
foreach(program ringfile-producer ringfile-consumer ringfile-status ringfile-bridge)
  if(NOT TARGET ${program})
    continue()
  endif()
  install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set(man_page ${PROJECT_BINARY_DIR}/doc/${program}.1)
  set(completion ${PROJECT_BINARY_DIR}/doc/${program}.bash)
  add_custom_command(
    OUTPUT ${man_page} ${completion}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/doc
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program}> -DARGUMENT=--man-page -DOUTPUT=${man_page}
            -P ${PROJECT_SOURCE_DIR}/cmake/write_program_output.cmake
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program}> -DARGUMENT=--bash-completion -DOUTPUT=${completion}
            -P ${PROJECT_SOURCE_DIR}/cmake/write_program_output.cmake
    DEPENDS ${program} ${PROJECT_SOURCE_DIR}/cmake/write_program_output.cmake
    COMMENT "Manual page and bash completion of ${program}"
    VERBATIM)
  add_custom_target(${program}-documentation ALL DEPENDS ${man_page} ${completion})
  install(FILES ${man_page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${completion} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${program})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# cpack -G DEB: one package with the programs, the library and its headers.
set(CPACK_PACKAGE_NAME ringfile)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "pass records between processes through a memory-mapped ring file")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "Producer processes append records to a ring file of any size; consumer processes attach by path "
       "and follow, each seeing every record in order. Programs ringfile-producer, ringfile-consumer and "
       "ringfile-status, the C++20 library, its headers, CMake and pkg-config files.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the programs without their debug information (the static library keeps its symbols)
set(CPACK_GENERATOR DEB)
if(NOT CPACK_DEBIAN_PACKAGE_MAINTAINER)
  set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ringfile maintainers <maintainers@ringfile.invalid>")
endif()
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the programs' shared libraries (dpkg-shlibdeps)
include(CPack)
