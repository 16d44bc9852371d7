# Install rules: the libraries other teams link (jwtauth::jwt, jwtauth::proto,
# jwtauth::client, jwtauth::interceptors and what they need), their public
# headers under include/jwtauth/, and a CMake package config. Headers that
# are internal to a library (key_data.h, openssl_util.h, header.h) are not
# installed, and no installed header includes them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_jwtauth_libs jwtauth_jwt jwtauth_proto jwtauth_common jwtauth_client jwtauth_interceptors)
set_target_properties(jwtauth_jwt PROPERTIES EXPORT_NAME jwt)
set_target_properties(jwtauth_proto PROPERTIES EXPORT_NAME proto)
set_target_properties(jwtauth_common PROPERTIES EXPORT_NAME common)
set_target_properties(jwtauth_client PROPERTIES EXPORT_NAME client)
set_target_properties(jwtauth_interceptors PROPERTIES EXPORT_NAME interceptors)
install(TARGETS ${_jwtauth_libs} EXPORT jwtauthTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/jwtauth)
install(TARGETS jwtauth jwtauth-server jwtauth-admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(_inc ${CMAKE_INSTALL_INCLUDEDIR}/jwtauth)
install(FILES
  jwt/algorithm.h jwt/base64url.h jwt/clock.h jwt/drf_messages.h jwt/error.h jwt/json.h
  jwt/jwk_export.h jwt/jws_verifier.h jwt/key.h jwt/key_loader.h jwt/key_set.h jwt/raw_jwt.h jwt/signer.h
  jwt/validator_options.h jwt/verified_jwt.h jwt/verifier.h
  DESTINATION ${_inc}/jwt)
install(FILES client/auth_client.h client/password_input.h DESTINATION ${_inc}/client)
install(FILES
  interceptors/auth_header.h interceptors/caller.h interceptors/client_interceptor.h
  interceptors/remote_key_set.h interceptors/revocation_checker.h interceptors/revocation_watcher.h
  interceptors/server_auth.h interceptors/token_cache.h interceptors/token_source.h
  interceptors/token_validator.h interceptors/verifier_source.h
  DESTINATION ${_inc}/interceptors)
install(FILES common/mutex.h common/serving_tuning.h common/worker_pool.h DESTINATION ${_inc}/common)
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/gen/ DESTINATION ${_inc}
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY proto/ DESTINATION ${CMAKE_INSTALL_DATADIR}/jwtauth/proto
  FILES_MATCHING PATTERN "*.proto")

install(EXPORT jwtauthTargets NAMESPACE jwtauth::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/jwtauth)
configure_package_config_file(cmake/jwtauthConfig.cmake.in
  ${PROJECT_BINARY_DIR}/jwtauthConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/jwtauth)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/jwtauthConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/jwtauthConfig.cmake
  ${PROJECT_BINARY_DIR}/jwtauthConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/jwtauth)
