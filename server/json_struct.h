// json_struct.h: converts verified JWT claims (jwt::Json) to
// google.protobuf.Struct for VerifyTokenResponse.claims. Numbers become
// doubles, as Struct requires.
// Thread-safety: stateless, safe from any thread.
#ifndef JWTAUTH_SERVER_JSON_STRUCT_H_
#define JWTAUTH_SERVER_JSON_STRUCT_H_

#include <google/protobuf/struct.pb.h>

#include "jwt/json.h"

namespace jwtauth::server {

void JsonToStruct(const jwt::Json& object, google::protobuf::Struct* out);
void JsonToValue(const jwt::Json& value, google::protobuf::Value* out);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_JSON_STRUCT_H_
