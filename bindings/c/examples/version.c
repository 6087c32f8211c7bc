/* SPDX-License-Identifier: Apache-2.0 */
/* version.c: the smallest libmodels program. Prints the library's version,
 * then shows what a configuration mistake looks like to a caller. */
#include <models.h>
#include <stdio.h>

int main(void) {
    printf("libmodels %s\n", models_version());

    /* A typo in a key: the router is not created and the error names the key. */
    models_error *err = NULL;
    models_router *r = models_router_new(
        "{\"primary\": \"openai/gpt-4o\", \"providers\": {\"openai\": {\"apikey\": \"sk-...\"}}}", &err);
    if (r == NULL) {
        printf("config rejected: %s (%s)\n", models_error_message(err),
               models_code_name(models_error_code(err)));
        models_error_free(err);
    }
    models_router_free(r);
    return 0;
}
