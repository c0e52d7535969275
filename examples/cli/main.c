/* placeholder until implemented */
typedef int ri_placeholder_main;
int main(void) { return 0; }
