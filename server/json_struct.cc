#include "server/json_struct.h"

namespace jwtauth::server {

void JsonToValue(const jwt::Json& value, google::protobuf::Value* out) {
  switch (value.type()) {
    case jwt::Json::Type::kNull:
      out->set_null_value(google::protobuf::NULL_VALUE);
      return;
    case jwt::Json::Type::kBool:
      out->set_bool_value(value.bool_value());
      return;
    case jwt::Json::Type::kNumber:
      out->set_number_value(value.number_value());
      return;
    case jwt::Json::Type::kString:
      out->set_string_value(value.string_value());
      return;
    case jwt::Json::Type::kArray: {
      google::protobuf::ListValue* list = out->mutable_list_value();
      for (const jwt::Json& item : value.items())
        JsonToValue(item, list->add_values());
      return;
    }
    case jwt::Json::Type::kObject:
      JsonToStruct(value, out->mutable_struct_value());
      return;
  }
}

void JsonToStruct(const jwt::Json& object, google::protobuf::Struct* out) {
  auto& fields = *out->mutable_fields();
  for (size_t i = 0; i < object.keys().size(); ++i) {
    JsonToValue(object.items()[i], &fields[object.keys()[i]]);
  }
}

}  // namespace jwtauth::server
