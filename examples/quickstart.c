/* placeholder until implemented */
typedef int ri_placeholder_quickstart;
int main(void) { return 0; }
