#include "greeter.hpp"

#include <brook/logger.hpp>

namespace greeter {

// snippet:declare
void declare(brook::broker& broker) {
  broker.subscriber("user-created")
      .publisher("greetings")
      .description("Greets every new user")
      .handle([](const user_created& u, brook::logger& log) -> greeting {
        log.info("new user {}", u.username);
        return {"Hello, " + u.username};
      });
}
// snippet:end

}  // namespace greeter
