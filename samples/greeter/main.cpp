// The greeter service: greets every user-created event. Runs on the in-memory
// broker, so it needs no server:
//   greeter publish user-created '{"username":"Ada","user_id":1}' --request
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>

#include "greeter.hpp"

// snippet:main
int main(int argc, char** argv) {
  brook::memory::broker broker;
  brook::app app{
      broker, {.title = "greeter", .version = "1.0.0", .description = "Says hello to new users"}};
  greeter::declare(broker);
  return app.run(argc, argv);
}
// snippet:end
