# The Debian 12 package: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (so the configuration lands in /etc/segd).
# Runtime dependencies are derived from the binary by dpkg-shlibdeps
# (dpkg-dev), so they follow whatever segd links; tzdata is read at run time
# for rule time zones, passwd provides useradd for the maintainer scripts.
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "Packaging: the .deb expects -DCMAKE_INSTALL_PREFIX=/usr "
                 "(now ${CMAKE_INSTALL_PREFIX})")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME segd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "segd team <segd@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "streaming real-time user segmentation daemon")
set(CPACK_PACKAGE_DESCRIPTION "segd reads behaviour events and user-property updates from \
Kafka, keeps per-user state in LMDB and writes an enter/leave record to Kafka the moment a user \
enters or leaves a segment, exactly once.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata, passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "kcat")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Maintainer scripts and conffiles, with the configuration paths of this prefix.
set(SEGD_DEB_SYSCONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR})
set(SEGD_DEB_LIBDIR ${CMAKE_INSTALL_PREFIX}/lib)
foreach(f postinst prerm postrm conffiles)
  configure_file(${CMAKE_SOURCE_DIR}/deploy/debian/${f}.in ${CMAKE_BINARY_DIR}/deploy/debian/${f}
                 @ONLY)
  list(APPEND segd_deb_control ${CMAKE_BINARY_DIR}/deploy/debian/${f})
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${segd_deb_control}")

include(CPack)
