// arena_messages.h: a grpc::MessageAllocator that places a callback method's
// request and response on one protobuf Arena, freed in one go when gRPC
// releases the call's messages (after OnDone).
//
// VerifyToken answers with a google.protobuf.Struct of the claims: built
// from the heap, that map of strings and Values cost ~10 k instructions per
// call to allocate and destroy (callgrind, bench/RESULTS.md). On an arena
// whose first block is inside the holder, a call's messages cost one
// allocation and no per-field destructors.
//
//   ArenaMessages<VerifyTokenRequest, VerifyTokenResponse> verify_messages;
//   service.SetMessageAllocatorFor_VerifyToken(&verify_messages);
//
// Thread-safety: AllocateMessages may be called from any thread at once; a
// holder belongs to one call. The allocator must outlive the server.
#ifndef JWTAUTH_SERVER_ARENA_MESSAGES_H_
#define JWTAUTH_SERVER_ARENA_MESSAGES_H_

#include <grpcpp/support/message_allocator.h>

#include <cstddef>

#include "google/protobuf/arena.h"

namespace jwtauth::server {

template <typename Request, typename Response>
class ArenaMessages final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  // Bytes of the arena's first block, inside the holder: enough for a
  // VerifyToken request and its claims response.
  static constexpr size_t kFirstBlock = 2048;

  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(first_block_)) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions o;
      o.initial_block = block;
      o.initial_block_size = kFirstBlock;
      return o;
    }

    alignas(std::max_align_t) char first_block_[kFirstBlock];  // before arena_
    google::protobuf::Arena arena_;
  };
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_ARENA_MESSAGES_H_
